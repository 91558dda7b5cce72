"""Colour maths: WCAG 2 contrast, mixing, and the dominant colour of a product image."""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal-size text

# RGB for the caption colour words, used when the image itself shows no clear colour.
NAMED: dict[str, RGB] = {
    "red": (214, 40, 40),
    "orange": (240, 128, 32),
    "yellow": (240, 196, 32),
    "green": (46, 160, 67),
    "blue": (37, 99, 235),
    "purple": (124, 58, 237),
    "pink": (236, 72, 153),
    "brown": (140, 86, 50),
    "black": (33, 33, 40),
    "white": (200, 200, 205),
}


def hex_to_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`t` = 0 gives a, 1 gives b."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def best_of_black_white(bg: RGB) -> RGB:
    return BLACK if contrast_ratio(BLACK, bg) >= contrast_ratio(WHITE, bg) else WHITE


def ensure_contrast(fg: RGB, bg: RGB, minimum: float = MIN_CONTRAST) -> RGB:
    """`fg`, moved toward black or white only as far as needed to reach `minimum` against `bg`.

    Always succeeds for minimum <= 4.58: every background has at least that much contrast with
    black or with white, and the walk ends there.
    """
    if contrast_ratio(fg, bg) >= minimum:
        return fg
    target = best_of_black_white(bg)
    for step in range(1, 21):
        candidate = mix(fg, target, step / 20)
        if contrast_ratio(candidate, bg) >= minimum:
            return candidate
    return target


def saturate(rgb: RGB, saturation: float, value: float | None = None) -> RGB:
    """Same hue with the given HSV saturation (and optionally value)."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))
    if s < 0.05:  # greys have no hue to saturate; keep them grey
        saturation = s
    r, g, b = colorsys.hsv_to_rgb(h, saturation, v if value is None else value)
    return round(r * 255), round(g * 255), round(b * 255)


def dominant_colour(image: Image.Image, min_share: float = 0.05) -> RGB | None:
    """The main saturated colour of a product image, ignoring its light backdrop.

    Pixels are binned by hue (weighted by saturation); the mean of the heaviest bin is returned.
    None when too few pixels are coloured (a white or grey product).
    """
    small = image.convert("RGB").resize((32, 32), Image.Resampling.BOX)
    rgb = np.asarray(small, dtype=np.float32).reshape(-1, 3)
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32).reshape(-1, 3) / 255.0
    coloured = (hsv[:, 1] > 0.25) & (hsv[:, 2] > 0.15)
    if coloured.sum() < min_share * len(rgb):
        return None
    bins = (hsv[coloured, 0] * 12).astype(int) % 12
    weights = np.bincount(bins, weights=hsv[coloured, 1], minlength=12)
    top = int(np.argmax(weights))
    mean = rgb[coloured][bins == top].mean(axis=0)
    return int(mean[0]), int(mean[1]), int(mean[2])
