"""Caption-preserving augmentations for product cut-outs (RGBA, transparent background).

Every augmentation either leaves what the caption describes untouched (background, placement)
or changes it and rewrites the caption to match (recolouring).  See docs/gan.md.
"""

from __future__ import annotations

import random
import re

import numpy as np
from PIL import Image

from shared.catalog.format import RESIZE_FILTER

# Colour words and the hue ranges (degrees) they name.  Ranges tile the circle.
PALETTE: dict[str, tuple[float, float, float]] = {  # name: (centre, low, high)
    "red": (0.0, -15.0, 15.0),
    "orange": (28.0, 15.0, 42.0),
    "yellow": (54.0, 42.0, 70.0),
    "green": (120.0, 70.0, 165.0),
    "blue": (215.0, 165.0, 255.0),
    "purple": (275.0, 255.0, 295.0),
    "pink": (325.0, 295.0, 345.0),
}
# Words for products that no hue rotation of a catalog picture makes (so the catalog never
# recolours into them): black and white by value and saturation, brown by visible_colour's
# "dull warm" rule. Only the colour-word pass (GANConfig.colour_word_shades) and the shade check
# use them; PALETTE and everything built from it (the catalog, the unseen-colour prompts) stay.
SHADES = ("black", "white", "brown")
DARK_VALUE = 0.30  # a product pixel darker than this (HSV value) reads as black
LIGHT_VALUE, LIGHT_SAT = 0.70, 0.20  # at least this light and at most this saturated: white
# Share of the product's pixels that must read as black, or of its non-dark pixels as white.
MIN_SHADE = 0.60
COLOUR_WORDS = re.compile(r"\b(" + "|".join((*PALETTE, *SHADES)) + r")\b\s*")
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "light blue": (214, 232, 250),
    "light pink": (252, 222, 232),
    "light yellow": (252, 246, 210),
    "light green": (220, 244, 222),
    "light grey": (232, 232, 232),
}
MIN_COLOURED = 0.30  # share of product pixels that must be saturated to name a colour
MIN_AGREEMENT = 0.70  # share of those saturated pixels that must fall in the named hue range


def _hsv(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rgba = np.asarray(image.convert("RGBA"))
    hsv = np.asarray(image.convert("RGB").convert("HSV")).astype(np.float32) / 255.0
    return hsv[..., 0] * 360.0, hsv[..., 1], hsv[..., 2], rgba[..., 3] > 128


def _in_range(hue: np.ndarray, low: float, high: float) -> np.ndarray:
    return ((hue - low) % 360.0) < (high - low)


def visible_colour(image: Image.Image) -> str | None:
    """The palette word describing the product, or None when no single colour dominates."""
    hue, sat, val, opaque = _hsv(image)
    coloured = opaque & (sat > 0.4) & (val > 0.45)
    if opaque.sum() == 0 or coloured.sum() < MIN_COLOURED * opaque.sum():
        return None
    hues, vals = hue[coloured], val[coloured]
    # Dark reds, oranges and yellows read as brown or olive, not as the hue's name.
    sats = sat[coloured]
    dull = _in_range(hues, -15.0, 70.0) & (
        (vals < 0.7) | (_in_range(hues, 15.0, 50.0) & (sats < 0.65))
    )
    # Dark pinks read as purple/magenta; leave them unnamed rather than risk the wrong word.
    dull |= _in_range(hues, 295.0, 345.0) & (vals < 0.6)
    if dull.mean() >= MIN_AGREEMENT:
        return "brown"
    for name, (_, low, high) in PALETTE.items():
        if (_in_range(hues, low, high) & ~dull).mean() >= MIN_AGREEMENT:
            return name
    return None


def visible_shade(image: Image.Image) -> str | None:
    """Black or white when that much of the product reads so, "brown" as visible_colour
    reads it, else None. White is light and unsaturated, not 255 (a generated product's
    border-connected white is ground), and it is read on the product's pixels that are not
    dark, as a palette colour is read on its saturated ones: a white product drawn in the
    catalog's style is its white fill inside a dark outline, and the outline of a thin one is
    a large share of its pixels. At least MIN_COLOURED of all its pixels must be white too."""
    _, sat, val, opaque = _hsv(image)
    n = int(opaque.sum())
    if n == 0:
        return None
    if (opaque & (val < DARK_VALUE)).sum() >= MIN_SHADE * n:
        return "black"
    white = int((opaque & (val >= LIGHT_VALUE) & (sat <= LIGHT_SAT)).sum())
    lit = int((opaque & (val >= DARK_VALUE)).sum())
    if white >= MIN_COLOURED * n and white >= MIN_SHADE * lit:
        return "white"
    return "brown" if visible_colour(image) == "brown" else None


def reads_as(image: Image.Image, word: str) -> bool:
    """Whether the product reads as ``word``: a PALETTE word or one of SHADES."""
    return (visible_shade(image) if word in SHADES else visible_colour(image)) == word


def dominant_hue(image: Image.Image) -> float | None:
    hue, sat, val, opaque = _hsv(image)
    coloured = opaque & (sat > 0.4) & (val > 0.45)
    if not coloured.any():
        return None
    angles = np.deg2rad(hue[coloured])
    return float(np.rad2deg(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())) % 360.0)


def shift_hue(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate the hue of every pixel (grey and black pixels have no hue and stay as they are)."""
    rgba = image.convert("RGBA")
    h, s, v = rgba.convert("RGB").convert("HSV").split()
    shift = int(round(degrees / 360.0 * 256)) % 256
    h = Image.fromarray(((np.asarray(h).astype(np.int32) + shift) % 256).astype(np.uint8))
    out = Image.merge("HSV", (h, s, v)).convert("RGB").convert("RGBA")
    out.putalpha(rgba.getchannel("A"))
    return out


def recolour(image: Image.Image, target: str) -> Image.Image | None:
    """Shift the product's dominant hue to ``target``; None unless the result reads as target."""
    current = dominant_hue(image)
    if current is None:
        return None
    out = shift_hue(image, PALETTE[target][0] - current)
    return out if visible_colour(out) == target else None


def without_colour(caption: str) -> str:
    """'green apple' -> 'apple'; a bare colour word used as a name is kept."""
    stripped = COLOUR_WORDS.sub("", caption).strip() if " " in caption else caption
    return stripped or caption


def with_colour(caption: str, colour: str) -> str:
    """'green apple' + red -> 'red apple'."""
    return f"{colour} {without_colour(caption)}"


def place(
    cutout: Image.Image, size: int, scale: float = 0.85, offset: tuple[float, float] = (0.5, 0.5)
) -> Image.Image:
    """Fit the cut-out's bounding box to ``scale`` of the canvas; offset picks its position."""
    bbox = cutout.getchannel("A").getbbox() or (0, 0, cutout.width, cutout.height)
    obj = cutout.crop(bbox)
    side = max(1, round(size * scale))
    ratio = side / max(obj.size)
    obj = obj.resize(
        (max(1, round(obj.width * ratio)), max(1, round(obj.height * ratio))), RESIZE_FILTER
    )
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    x = round((size - obj.width) * offset[0])
    y = round((size - obj.height) * offset[1])
    canvas.alpha_composite(obj, (x, y))
    return canvas


def jitter(cutout: Image.Image, size: int, rng: random.Random) -> Image.Image:
    return place(
        cutout,
        size,
        scale=rng.uniform(0.6, 0.95),
        offset=(rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0)),
    )


def on_background(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    canvas = Image.new("RGBA", image.size, colour + (255,))
    return Image.alpha_composite(canvas, image.convert("RGBA")).convert("RGB")
