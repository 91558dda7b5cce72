import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compose.fonts import cjk_available, cjk_font, latin_font
from shared.compose.text_fit import ELLIPSIS, fit_text, sizes_between, text_width, wrap

SANS = latin_font(bold=True)
needs_cjk = pytest.mark.skipif(not cjk_available(),
                               reason="no CJK font (apt-get install fonts-wqy-zenhei)")


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
@given(st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=120),
       st.integers(30, 400), st.integers(12, 120), st.integers(10, 40))
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
