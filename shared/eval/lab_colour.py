"""A second colour reading, built unlike the colour check, for models trained against it.

The colour check (``shared.catalog.augment.visible_colour``) counts HSV pixels: at least 30% of
the product saturated and bright, 70% of those inside the word's hue range.  The colour-word
pass (``shared.gan.losses.colour_word_loss``) trains a soft form of exactly those shares, so a
model trained with it could learn to pass the check without looking like the colour.  This reading
shares none of its rules: it works in CIELAB (a perceptual space), averages the (a*, b*) of
*every* product pixel (grey and dark ones pull towards grey, a few vivid pixels do not decide
it), and names the nearest word by the angle of that mean against each word's reference hue;
too little mean chroma reads as black when the mean is dark, white when it is light (on our
white ground a white product shows as light grey) and no colour between; a warm word read much
darker than its reference reads as brown, as people call dark orange and olive.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np
from PIL import Image

from shared.catalog.augment import PALETTE
from shared.imaging_ground import ground

# A pixel with every channel above this is near-white: ground where it connects to the
# picture's border (shared.imaging_ground), the product's own white where it is enclosed.
GROUND = 225
MIN_CHROMA = 12.0  # mean (a*, b*) length below this: no colour (a neutral grey is 0, red ~80)
DARK_SHARE = 0.6  # a warm word whose mean L* falls below this share of its reference's: brown
BLACK_L, WHITE_L = 35.0, 72.0  # mean L* of a product with little chroma: black below, white above
WARM = ("red", "orange", "yellow")
_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """[..., 3] sRGB in 0..1 -> [..., 3] CIELAB (D65)."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


@lru_cache(maxsize=1)
def references() -> dict[str, tuple[float, float]]:
    """Each palette word's (Lab hue in degrees, L*) at its HSV centre, fully saturated."""
    out = {}
    for name, (centre, _, _) in PALETTE.items():
        lab = srgb_to_lab(np.array(colorsys.hsv_to_rgb(centre % 360.0 / 360.0, 1.0, 1.0)))
        out[name] = (float(np.degrees(np.arctan2(lab[2], lab[1])) % 360.0), float(lab[0]))
    return out


def lab_colour(image: Image.Image) -> str | None:
    """The palette word (or "brown", "black", "white") for the mean Lab colour of the
    product's pixels; None for an empty picture or one whose product averages to mid grey."""
    rgb = np.asarray(image.convert("RGB"))
    product = ~ground(rgb, GROUND)  # enclosed near-white (a white plate's fill) is product
    if product.sum() < 16:
        return None
    lab = srgb_to_lab(rgb[product].astype(np.float64) / 255.0)
    a, b = float(lab[:, 1].mean()), float(lab[:, 2].mean())
    lightness = float(lab[:, 0].mean())
    if np.hypot(a, b) < MIN_CHROMA:
        return "black" if lightness < BLACK_L else "white" if lightness > WHITE_L else None
    hue = float(np.degrees(np.arctan2(b, a)) % 360.0)
    refs = references()
    word = min(refs, key=lambda w: abs((hue - refs[w][0] + 180.0) % 360.0 - 180.0))
    if word in WARM and lightness < DARK_SHARE * refs[word][1]:
        return "brown"
    return word
