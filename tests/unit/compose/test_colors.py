from hypothesis import given, settings
from hypothesis import strategies as st

from shared.compose.colors import (
    BLACK,
    WHITE,
    contrast_ratio,
    dominant_colour,
    ensure_contrast,
    relative_luminance,
)
from shared.compose.styles import TEXT_ROLES, make_theme
from shared.events import BrandKit

channel = st.integers(0, 255)
rgb = st.tuples(channel, channel, channel)
STYLES = ("clean", "bold", "seasonal")


def test_wcag_reference_values() -> None:
    assert relative_luminance(WHITE) == 1.0
    assert relative_luminance(BLACK) == 0.0
    assert round(contrast_ratio(WHITE, BLACK), 2) == 21.0
    # #777777 on white is the classic just-below-AA grey (4.48:1).
    assert round(contrast_ratio((0x77, 0x77, 0x77), WHITE), 2) == 4.48
    assert contrast_ratio((10, 20, 30), (200, 100, 50)) == contrast_ratio(
        (200, 100, 50), (10, 20, 30)
    )


@given(rgb, rgb)
def test_ensure_contrast_always_reaches_aa(
    fg: tuple[int, int, int], bg: tuple[int, int, int]
) -> None:
    out = ensure_contrast(fg, bg)
    assert contrast_ratio(out, bg) >= 4.5
    if contrast_ratio(fg, bg) >= 4.5:
        assert out == fg  # colours that already pass are left alone


@settings(max_examples=150)
@given(rgb, st.sampled_from(STYLES))
def test_every_text_role_passes_aa_on_any_palette(base: tuple[int, int, int], style: str) -> None:
    theme = make_theme(style, base)
    for kind in TEXT_ROLES:
        assert contrast_ratio(*theme.colours(kind)) >= 4.5, (style, base, kind)


@settings(max_examples=100)
@given(rgb, rgb, rgb, st.sampled_from(STYLES))
def test_every_text_role_passes_aa_with_any_brand_kit(
    base: tuple[int, int, int],
    primary: tuple[int, int, int],
    secondary: tuple[int, int, int],
    style: str,
) -> None:
    kit = BrandKit(
        name="B",
        primary_color="#{:02X}{:02X}{:02X}".format(*primary),
        secondary_color="#{:02X}{:02X}{:02X}".format(*secondary),
    )
    assert make_theme(style, primary, kit).min_contrast() >= 4.5
    assert make_theme(style, base, kit).min_contrast() >= 4.5


def test_dominant_colour_ignores_light_backdrop() -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 64), (250, 246, 210))
    ImageDraw.Draw(img).rectangle((16, 16, 48, 48), fill=(30, 90, 220))
    found = dominant_colour(img)
    assert found is not None and found[2] > 180 and found[0] < 80
    assert dominant_colour(Image.new("RGB", (64, 64), (128, 128, 128))) is None
