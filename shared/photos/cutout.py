"""Cutting a product out of its photo: its own alpha, or a matte from a plain border colour.

Only the background is made transparent; the product's pixels are never touched (where the
matte is opaque, the RGB bytes are the photo's). The matte:

1. a photo with any transparency keeps its alpha as is;
2. otherwise the border must be one plain colour (90 % of a 2 px frame within a tolerance),
   else the photo is kept whole (a scene, not a packshot) and pasted as a rectangle;
3. pixels within `t_lo` of the border colour that are connected to the border are background
   (alpha 0): closed areas of that colour inside the product (white laces) stay;
4. pixels between `t_lo` and `t_hi` connected to that background (the anti-aliased rim, a soft
   shadow) get the least alpha that explains them as a colour laid over the border colour
   (colour-to-alpha), and their colour is un-mixed from it: a grey shadow on white becomes a
   faint black shadow, so rim and shadow sit cleanly on any new background.

Limit: a light part of the product that touches the background directly (within `t_hi` of its
colour) is treated like shadow. Shops with such products upload a PNG with alpha.

Distances are the largest per-channel difference (0..255); `t_lo` follows the border's own noise
(JPEG backgrounds are not flat).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from shared.imaging_ground import border_frame, connected_to

BORDER_PX = 2
PLAIN_TOLERANCE = 24  # border pixels this close to the median colour count as "plain"
PLAIN_SHARE = 0.9
SOFT_RANGE = 56  # t_hi - t_lo: how far from the border colour a shadow or rim may be
MARGIN = 0.04  # transparent margin around the product in the framed square


def cutout(image: Image.Image) -> tuple[Image.Image, str]:
    """(RGBA cut-out framed in a square, matte kind: "alpha" | "border" | "none")."""
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    px = np.asarray(rgba)
    if px[..., 3].min() < 255:
        return frame(rgba), "alpha"
    alpha = border_matte(px[..., :3])
    if alpha is None:
        return frame(rgba), "none"
    return frame(_apply(px, alpha)), "border"


def _border(rgb: np.ndarray) -> np.ndarray:
    b = BORDER_PX
    return np.concatenate(
        [
            rgb[:b].reshape(-1, 3),
            rgb[-b:].reshape(-1, 3),
            rgb[b:-b, :b].reshape(-1, 3),
            rgb[b:-b, -b:].reshape(-1, 3),
        ]
    )


def _distance(rgb: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return np.abs(rgb.astype(np.int16) - colour.astype(np.int16)).max(axis=-1)


def border_matte(rgb: np.ndarray) -> np.ndarray | None:
    """Alpha (uint8, H x W) separating a product from a plain border colour; None if the
    border is not plain."""
    h, w = rgb.shape[:2]
    if h <= 2 * BORDER_PX or w <= 2 * BORDER_PX:
        return None
    border = _border(rgb)
    bg = np.median(border, axis=0)
    near = _distance(border, bg)
    if (near <= PLAIN_TOLERANCE).mean() < PLAIN_SHARE:
        return None
    t_lo = int(np.clip(np.percentile(near[near <= PLAIN_TOLERANCE], 99) + 6, 8, 40))
    t_hi = t_lo + SOFT_RANGE
    d = _distance(rgb, bg)
    hard = connected_to(d <= t_lo, border_frame((h, w), BORDER_PX))
    soft = connected_to(d <= t_hi, hard) & ~hard
    alpha = np.full((h, w), 255, dtype=np.uint8)
    alpha[hard] = 0
    alpha[soft] = np.clip(np.rint(_least_alpha(rgb[soft], bg) * 255), 1, 255).astype(np.uint8)
    return alpha


def _least_alpha(rgb: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """The smallest opacity that explains each colour as some colour laid over `bg` (as a
    shadow or an anti-aliased rim is): a grey shadow on white becomes faint black, not grey."""
    diff = rgb.astype(np.float32) - bg.astype(np.float32)
    room = np.where(diff < 0, bg, 255.0 - bg).astype(np.float32)
    return np.asarray((np.abs(diff) / np.maximum(room, 1.0)).max(axis=-1))


def _apply(px: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """RGBA with `alpha`; partly transparent pixels un-mixed from the border colour."""
    rgb = px[..., :3]
    bg = np.median(_border(rgb), axis=0).astype(np.float32)
    out = np.dstack([rgb, alpha]).copy()
    part = (alpha > 0) & (alpha < 255)
    a = alpha[part].astype(np.float32)[:, None] / 255.0
    out[part, :3] = np.clip(np.rint(bg + (rgb[part].astype(np.float32) - bg) / a), 0, 255)
    out[alpha == 0, :3] = np.rint(bg).astype(np.uint8)
    return Image.fromarray(out.astype(np.uint8), "RGBA")


def frame(rgba: Image.Image, margin: float = MARGIN) -> Image.Image:
    """The visible part of `rgba`, centred in a transparent square with a small margin, so a
    square tile shows all of the product (never cropped) at the largest size that fits."""
    box = rgba.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    part = rgba.crop(box) if box else rgba
    side = round(max(part.size) * (1 + 2 * margin))
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(part, ((side - part.width) // 2, (side - part.height) // 2))
    return square
