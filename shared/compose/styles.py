"""Colour themes for the three styles. Every text colour is checked against what lies behind it.

clean:    a pale tint of the product/brand colour, dark type, a solid accent button.
bold:     the saturated product/brand colour as background, black or white type, big headline.
seasonal: a deep festive ground (pine or crimson), cream and gold type, confetti and a ribbon.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from shared.compose.colors import (
    RGB,
    WHITE,
    best_of_black_white,
    contrast_ratio,
    ensure_contrast,
    hex_to_rgb,
    mix,
    relative_luminance,
    saturate,
)
from shared.events import BrandKit

INK: RGB = (28, 28, 34)
CREAM: RGB = (255, 248, 231)
GOLD: RGB = (242, 193, 78)
PINE: RGB = (18, 92, 60)
CRIMSON: RGB = (150, 24, 42)

# Which colour each text element is drawn in, and on what.
TEXT_ROLES = {
    "brand": "text",
    "kicker": "accent_text",
    "headline": "text",
    "price": "accent_text",
    "tagline": "text",
    "cta": "cta_text",
}


@dataclass(frozen=True)
class Theme:
    style: str
    background: RGB
    text: RGB
    accent_text: RGB
    cta_fill: RGB
    cta_text: RGB
    shadow: RGB
    confetti: tuple[RGB, ...] = ()

    def colours(self, kind: str) -> tuple[RGB, RGB]:
        """(foreground, background) of a text element of this kind."""
        fg = getattr(self, TEXT_ROLES[kind])
        return fg, self.cta_fill if kind == "cta" else self.background

    def min_contrast(self) -> float:
        return min(contrast_ratio(*self.colours(kind)) for kind in TEXT_ROLES)


def _hue_distance(a: RGB, b: RGB) -> float:
    ha = colorsys.rgb_to_hsv(*(c / 255 for c in a))[0]
    hb = colorsys.rgb_to_hsv(*(c / 255 for c in b))[0]
    d = abs(ha - hb) % 1.0
    return min(d, 1.0 - d)


def _clean(base: RGB, brand: BrandKit | None) -> Theme:
    secondary = hex_to_rgb(brand.secondary_color) if brand else None
    if secondary and relative_luminance(secondary) > 0.7:
        bg = secondary
    else:
        bg = mix(saturate(base, 0.5), WHITE, 0.86)
    fill = ensure_contrast(base, WHITE)  # darkened until white button text reads
    return Theme(
        "clean",
        bg,
        ensure_contrast(INK, bg),
        ensure_contrast(saturate(base, 0.8), bg),
        fill,
        WHITE,
        mix(INK, bg, 0.3),
    )


def _bold(base: RGB, brand: BrandKit | None) -> Theme:
    bg = base if brand else saturate(base, 0.85)
    text = ensure_contrast(mix(best_of_black_white(bg), bg, 0.06), bg)
    fill = text
    return Theme("bold", bg, text, text, fill, ensure_contrast(bg, fill), mix(INK, bg, 0.5))


def _seasonal(base: RGB) -> Theme:
    festive = PINE if _hue_distance(base, CRIMSON) < 0.08 else CRIMSON
    bg = mix(festive, base, 0.15)
    return Theme(
        "seasonal",
        bg,
        ensure_contrast(CREAM, bg),
        ensure_contrast(GOLD, bg),
        GOLD,
        ensure_contrast(mix(festive, INK, 0.4), GOLD),
        mix(INK, bg, 0.4),
        confetti=(GOLD, CREAM, (230, 57, 70), (42, 157, 143), saturate(base, 0.7)),
    )


def make_theme(style: str, base: RGB, brand: BrandKit | None = None) -> Theme:
    """Theme for `style` around `base` (the brand's primary colour or the product's colour)."""
    if style == "bold":
        return _bold(base, brand)
    if style == "seasonal":
        return _seasonal(base)
    return _clean(base, brand)
