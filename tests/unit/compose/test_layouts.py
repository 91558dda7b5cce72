"""Layout boxes for every ad type, size, style and kind of title: nothing overflows or overlaps."""

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compose import fonts
from shared.compose.fonts import CJK_INSTALL, cjk_available
from shared.compose.layouts import DROP_ORDER, MIN_SIZE, MIN_SIZE_DEFAULT, Layout, build_layout
from shared.compose.templates import template_for
from shared.events import EVENT_TYPES
from shared.personalize import plan_event
from shared.placements import PLACEMENTS
from tests.unit.compose.helpers import TITLES, event_with

STYLES = ("clean", "bold", "seasonal")


def _layouts(ad_type: str, title: str, style: str, locale: str = "en-US") -> list[Layout]:
    if any(ord(c) > 0x2E80 for c in title) and not cjk_available():
        pytest.skip(f"no CJK font installed ({CJK_INSTALL})")
    event = event_with(ad_type, title, style, locale)
    return [build_layout(c) for c in plan_event(event).creatives]


def _inside(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (
        inner[0] >= outer[0]
        and inner[1] >= outer[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_layout(layout: Layout) -> None:
    canvas = (0, 0, layout.width, layout.height)
    for element in layout.elements:
        assert _inside(element.box, canvas), (element.kind, element.box)
    for a, b in itertools.combinations(layout.elements, 2):
        assert not _overlap(a.box, b.box), (a.kind, a.box, b.kind, b.box)
    for element in layout.text_elements:
        assert element.font is not None
        font = element.font.at(element.size)
        assert element.size >= MIN_SIZE.get(element.kind, MIN_SIZE_DEFAULT)
        for line in element.lines:
            x0, y0, x1, y1 = font.getbbox(line.text, anchor=line.anchor)
            ink = (line.x + x0, line.y + y0, line.x + x1, line.y + y1)
            assert _inside(ink, element.box), (element.kind, line.text, ink, element.box)
            assert _inside(ink, canvas)


@pytest.mark.parametrize("title", TITLES.values(), ids=TITLES.keys())
@pytest.mark.parametrize("ad_type", EVENT_TYPES)
def test_text_never_overflows_any_size(ad_type: str, title: str) -> None:
    for style in STYLES:
        for layout in _layouts(ad_type, title, style):
            check_layout(layout)
            assert layout.get("headline") is not None and layout.get("cta") is not None


@pytest.mark.parametrize("locale", ["de-DE", "fr-FR", "es-ES", "ja-JP", "zh-CN"])
def test_localised_copy_fits(locale: str) -> None:
    if locale[:2] in ("ja", "zh") and not cjk_available():
        pytest.skip(f"no CJK font installed ({CJK_INSTALL})")
    for ad_type in EVENT_TYPES:
        for layout in _layouts(ad_type, TITLES["long"], "bold", locale):
            check_layout(layout)


def test_long_title_is_ellipsised_not_dropped() -> None:
    for layout in _layouts("product_display", TITLES["long"], "clean"):
        headline = layout.get("headline")
        assert headline is not None and headline.truncated
        assert headline.lines[-1].text.endswith("…")


def test_drops_follow_priority_order() -> None:
    for layout in _layouts("cart", TITLES["long"], "clean"):
        dropped = list(layout.dropped)
        assert dropped == [k for k in DROP_ORDER if k in dropped]
        assert "headline" not in dropped and "cta" not in dropped


def test_mobile_banner_keeps_headline_price_and_button() -> None:
    layout = next(
        lay
        for lay in _layouts("product_display", "Trail Running Shoe", "clean")
        if lay.width == 320
    )
    assert {"product", "headline", "price", "cta"} <= set(layout.kinds)
    assert layout.get("headline").size >= 12  # type: ignore[union-attr]


def _kinds_by_size(ad_type: str) -> dict[str, list[str]]:
    return {
        f"{lay.width}x{lay.height}": lay.kinds
        for lay in _layouts(ad_type, "Trail Running Shoe", "clean")
    }


def test_product_display_elements() -> None:
    for size, kinds in _kinds_by_size("product_display").items():
        assert kinds.count("product") == 1 and "complement" not in kinds, size
        assert {"headline", "price", "cta"} <= set(kinds), size


def test_cart_shows_complements_and_completion_line() -> None:
    for size, kinds in _kinds_by_size("cart").items():
        assert kinds.count("product") == 1, size
        assert kinds.count("complement") == (1 if size == "320x50" else 2), size
        if size != "320x50":
            assert "kicker" in kinds, size


def test_recommendation_arrangement_by_size() -> None:
    event = event_with("recommendation")
    for plan in plan_event(event).creatives:
        layout = build_layout(plan)
        n = layout.kinds.count("product")
        expected = {"320x50": 1, "728x90": 4, "160x600": 3, "300x250": 4, "1080x1080": 4}
        assert n == expected[plan.size], plan.size
        tops = {e.box[1] for e in layout.elements if e.kind == "product"}
        lefts = {e.box[0] for e in layout.elements if e.kind == "product"}
        if plan.size == "728x90":
            assert len(tops) == 1  # a strip
        if plan.size in ("1080x1080", "300x250"):
            assert len(tops) == 2 and len(lefts) == 2  # a 2x2 grid
        if plan.size == "160x600":
            assert len(lefts) == 1  # a stack


def test_brand_creative_leads_with_brand_and_tagline() -> None:
    event = event_with("brand")
    for plan in plan_event(event).creatives:
        layout = build_layout(plan)
        headline = layout.get("headline")
        assert headline is not None and headline.lines[0].text == "Stride"
        if plan.size != "320x50":
            assert layout.get("tagline") is not None
            assert layout.kinds.count("product") >= 3


def test_templates_per_placement() -> None:
    assert {s: template_for(s) for s in PLACEMENTS} == {
        "300x250": "split",
        "728x90": "banner",
        "160x600": "skyscraper",
        "320x50": "banner",
        "1080x1080": "square",
    }


@settings(max_examples=25, deadline=None)
@given(
    st.text(
        st.characters(codec="latin-1", exclude_categories=("Cc", "Zs")), min_size=1, max_size=150
    ),
    st.sampled_from(EVENT_TYPES),
    st.sampled_from(STYLES),
)
def test_random_titles_fit_every_size(title: str, ad_type: str, style: str) -> None:
    for layout in _layouts(ad_type, title, style):
        check_layout(layout)


def test_undrawable_characters_are_left_out() -> None:
    for layout in _layouts("product_display", TITLES["emoji"], "clean"):
        headline = layout.get("headline")
        assert headline is not None
        text = " ".join(line.text for line in headline.lines)
        assert "👟" not in text and "Running" in text


def test_long_words_shrink_instead_of_splitting() -> None:
    words = set(TITLES["long"].split())
    for layout in _layouts("cart", TITLES["long"], "bold", "fr-FR"):
        headline = layout.get("headline")
        assert headline is not None
        for line in headline.lines[:-1]:  # all but the ellipsised last line are whole words
            assert set(line.text.split()) <= words, (layout.width, line.text)


@pytest.mark.parametrize("style", ["clean", "bold"])
def test_a_word_wider_than_the_column_is_broken_not_the_price_dropped(style: str) -> None:
    """docs/composition.md: the price goes only when even a one-line headline leaves no room.
    "Geschirrspülmaschinentabs" is wider than the 300x250 and 160x600 text columns even at the
    10 px floor, so it is broken between letters and the price (and brand) stay."""
    title = "Finish Geschirrspülmaschinentabs 100 Stück"
    event = event_with("product_display", title, style, "de-DE")
    for creative in plan_event(event).creatives:
        if creative.size not in ("300x250", "160x600"):
            continue
        layout = build_layout(creative)
        check_layout(layout)
        assert layout.get("price") is not None, (creative.size, layout.dropped)
        assert "price" not in layout.dropped and "brand" not in layout.dropped
        headline = layout.get("headline")
        assert headline is not None
        text = "".join(line.text for line in headline.lines).replace(" ", "")
        assert text == title.replace(" ", ""), headline.lines  # broken, nothing lost, no hyphen


@pytest.mark.parametrize(
    "title", ["กระเป๋าถือหนังผู้หญิงสีดำ", "महिलाओं का चमड़े का हैंडबैग", "1️⃣ Bestseller Tasche"]
)
def test_titles_in_scripts_without_a_font_leave_no_marks_or_keycaps(
    title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "_scanned_scripts", lambda: {"thai": (), "devanagari": ()})
    event = event_with("product_display", title, "clean")
    for creative in plan_event(event).creatives:
        layout = build_layout(creative)
        check_layout(layout)
        for element in layout.text_elements:
            for line in element.lines:
                assert not any(
                    unicodedata.category(c) in ("Mn", "Mc", "Me") and c != "\ufe0f"
                    for c in line.text
                ), (creative.size, element.kind, line.text)
