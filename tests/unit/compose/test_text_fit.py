import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compose.fonts import CJK_INSTALL, cjk_available, cjk_font, latin_font
from shared.compose.text_fit import (
    ELLIPSIS,
    NO_LINE_END,
    NO_LINE_START,
    _break_long,
    _tokens,
    fit_text,
    sizes_between,
    text_width,
    wrap,
)

SANS = latin_font(bold=True)
needs_cjk = pytest.mark.skipif(not cjk_available(), reason=f"no CJK font installed ({CJK_INSTALL})")


def _inside(fitted, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    font = fitted.font.at(fitted.size)
    assert fitted.height <= height
    for i, line in enumerate(fitted.lines):
        x0, y0, x1, y1 = font.getbbox(line, anchor="la")
        shift = -min(0, x0)  # the layout moves glyphs with a negative left bearing right
        assert x1 + shift <= width, (line, x0, x1, width)
        y = fitted.top + i * fitted.line_height  # where the layout draws line i
        assert y + y0 >= 0 and y + y1 <= fitted.height <= height


def test_short_text_keeps_max_size() -> None:
    fitted = fit_text(SANS, "Mug", 200, 40, 24, 10)
    assert fitted is not None and fitted.size == 24 and fitted.lines == ("Mug",)


def test_long_text_shrinks_then_ellipsises() -> None:
    text = "Ultra lightweight waterproof breathable trail running shoe " * 4
    fitted = fit_text(SANS, text, 120, 40, 24, 10, max_lines=2)
    assert fitted is not None and fitted.truncated and fitted.size == 10
    assert fitted.lines[-1].endswith(ELLIPSIS) and len(fitted.lines) <= 2
    _inside(fitted, 120, 40)


def test_words_break_at_hyphens_before_letters() -> None:
    lines = wrap(SANS.at(14), "Kinder-Regenjacke mit Kapuze", 110, break_words=False)
    assert lines is not None and lines[0] == "Kinder-"


def test_unbreakable_word_fails_without_breaking_and_breaks_as_last_resort() -> None:
    font = SANS.at(14)
    assert wrap(font, "W" * 40, 60, break_words=False) is None
    lines = wrap(font, "W" * 40, 60)
    assert lines is not None and all(text_width(font, ln) <= 60 for ln in lines)


def test_nothing_fits_in_a_box_lower_than_one_line() -> None:
    assert fit_text(SANS, "Hello", 100, 5, 12, 10) is None
    assert fit_text(SANS, "   ", 100, 50, 12, 10) is None


def test_sizes_between_ends_at_min() -> None:
    assert sizes_between(40, 10)[-1] == 10 and sizes_between(40, 10)[0] == 40
    assert sizes_between(8, 10) == [10]


@settings(max_examples=60, deadline=None)
@given(
    st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=120),
    st.integers(30, 400),
    st.integers(12, 120),
    st.integers(10, 40),
)
def test_fit_never_overflows(text: str, width: int, height: int, max_size: int) -> None:
    fitted = fit_text(SANS, text, width, height, max_size, 10, max_lines=3)
    if fitted is not None:
        _inside(fitted, width, height)


@needs_cjk
def test_cjk_wraps_between_characters() -> None:
    spec = cjk_font()
    fitted = fit_text(spec, "高级真皮手提包黑色限量版经典款式轻便耐用", 80, 80, 16, 10, max_lines=3)
    assert fitted is not None and len(fitted.lines) > 1
    _inside(fitted, 80, 80)


def test_ellipsis_continues_the_text_after_the_last_kept_line() -> None:
    fitted = fit_text(SANS, "Ultra Lightweight Waterproof Breathable", 110, 16, 12, 12, 1)
    assert fitted is not None and fitted.lines[0].startswith("Ultra Light")
    assert fitted.lines[0].endswith(ELLIPSIS)


# Kinsoku: the line-breaking rules of Chinese and Japanese.
CJK_TITLES = (
    "【新品】2026新款男士轻便透气跑步鞋，减震防滑（黑色）！限时包邮。",
    "「經典款」真皮手提包、大容量，輕便耐用！（附贈防塵袋）",
    "ランニングシューズ　メンズ（軽量）「厚底」ブラック、通気性！ー",
    "苹果iPhone 16 Pro Max手机 5G全网通 256GB（黑色钛金属）",
    "ちょっとしたギフトにぴったり、ショッピングバッグ。ッ",
)


def _kinsoku_ok(lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if i > 0:
            assert line[0] not in NO_LINE_START, lines
        if i < len(lines) - 1:
            assert line[-1] not in NO_LINE_END, lines


@needs_cjk
@pytest.mark.parametrize("text", CJK_TITLES)
def test_cjk_lines_obey_kinsoku_at_every_width(text: str) -> None:
    font = cjk_font(bold=True).at(16)
    for width in range(40, 400, 7):
        lines = wrap(font, text, width, break_words=False)
        if lines is None:  # a Latin word wider than the box: the caller shrinks instead
            continue
        _kinsoku_ok(lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_kinsoku_glues_marks_to_their_neighbours_without_a_font() -> None:
    tokens = [t for t, _ in _tokens("跑鞋」。「新款（黑色）")]
    assert "鞋」。" in tokens and "「新" in tokens and "（黑" in tokens and "色）" in tokens


@needs_cjk
def test_latin_words_stay_whole_inside_cjk_text() -> None:
    font = cjk_font().at(14)
    text = "苹果iPhone 16 Pro Max手机 Bluetooth耳机 Samsung Galaxy"
    for width in range(90, 300, 11):
        lines = wrap(font, text, width, break_words=False)
        assert lines is not None
        words = " ".join(lines).split()
        for latin in ("iPhone", "Bluetooth", "Samsung", "Galaxy"):
            assert any(latin in w for w in words), (width, lines)


@needs_cjk
@pytest.mark.parametrize("text", CJK_TITLES)
def test_cjk_fit_stays_inside_small_boxes(text: str) -> None:
    spec = cjk_font(bold=True)
    for width, height in ((60, 40), (140, 60), (200, 30), (90, 120)):
        fitted = fit_text(spec, text, width, height, 22, 10, max_lines=3)
        if fitted is not None:
            _inside(fitted, width, height)
            _kinsoku_ok(list(fitted.lines))


def test_long_words_break_between_grapheme_clusters() -> None:
    font = SANS.at(14)
    word = "A\u20dd" * 12  # an enclosing circle is wider than its letter: it widens the piece
    for width in range(20, 120, 5):
        pieces = _break_long(font, word, width)
        assert "".join(pieces) == word
        assert all(not p.startswith("\u20dd") for p in pieces), (width, pieces)
