"""Scaling a product image to its tile, and the tile's card and shadow.

Generated images (RGB) become rounded cards; a shop's photo cut-out (RGBA, `shared/photos`) is
pasted by its own alpha with a shadow of its own shape (`scale_photo`, `paste_cutout`).

A 64 px sample blown up to 400 px in one LANCZOS step looks soft, and NEAREST looks blocky.
We double with LANCZOS until at or above the target, make one gentle LANCZOS reduction to the
exact size, then apply a light unsharp mask whose radius follows the scale factor (about half a
source pixel): edges stay crisp without visible pixels or bright halos. (Stronger sharpening at
every doubling was tried and left a glowing rim around products.)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shared.compose.colors import RGB

FILTER = Image.Resampling.LANCZOS
SHARPEN_PERCENT = 30
SHARPEN_THRESHOLD = 3
# Tiles at least this tall are pasted strip by strip (`paste_card`); below it the extra paste
# calls cost more than the pixels they skip (measured: 124 px 0.15 -> 0.11 ms, 70 px 0.05 -> 0.07).
STRIPS_FROM = 96

# Product tiles already scaled elsewhere (shared.compose.upscale, on the generator's device):
# (index of the image among the creative's product images, tile side) -> the RGB tile.
Tiles = Mapping[tuple[int, int], Image.Image]


def scale_product(image: Image.Image, side: int) -> Image.Image:
    """`image` as an RGB square of `side` px (centre-cropped first if not square)."""
    img = image.convert("RGB")
    w, h = img.size
    if w != h:
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    factor = side / img.width
    while img.width < side:
        img = img.resize((img.width * 2, img.height * 2), FILTER)
    if img.width != side:
        img = img.resize((side, side), FILTER, reducing_gap=3.0 if img.width > side else None)
    if factor > 1.5:
        img = img.filter(
            ImageFilter.UnsharpMask(
                radius=factor * 0.5, percent=SHARPEN_PERCENT, threshold=SHARPEN_THRESHOLD
            )
        )
    return img


@lru_cache(maxsize=256)
def rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    # Drawn at 4x and reduced so the corners are anti-aliased. Cached: a handful of sizes recur
    # for every creative, and this was a fifth of the composition time. Callers must not mutate.
    big = Image.new("L", (size[0] * 4, size[1] * 4), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, big.width - 1, big.height - 1), radius * 4, fill=255
    )
    return big.resize(size, Image.Resampling.LANCZOS)


@lru_cache(maxsize=256)
def _shadow(size: tuple[int, int], radius: int, shadow: int) -> Image.Image:
    """The blurred drop-shadow alpha for a card (cached like the mask; never mutated)."""
    pad = shadow * 3
    layer = Image.new("L", (size[0] + 2 * pad, size[1] + 2 * pad), 0)
    layer.paste(rounded_mask(size, radius).point(lambda v: v * 90 // 255), (pad, pad + shadow // 2))
    return layer.filter(ImageFilter.GaussianBlur(shadow))


@lru_cache(maxsize=256)
def _corner_rows(size: tuple[int, int], radius: int) -> int:
    """How many rows at the top and at the bottom of the rounded mask may hold a value below
    255 (its corners, and the LANCZOS reduction's ringing a row or two further in); every row
    between is fully opaque."""
    w, h = size
    translucent = np.flatnonzero((np.asarray(rounded_mask(size, radius)) < 255).any(axis=1))
    top = translucent[translucent < h // 2]
    bottom = translucent[translucent >= h // 2]
    return max(int(top.max()) + 1 if top.size else 0, h - int(bottom.min()) if bottom.size else 0)


@lru_cache(maxsize=256)
def _strips(size: tuple[int, int], radius: int, shadow: int) -> tuple[Strip, ...]:
    """Where pasting a card's shadow and tile can change a pixel, as (box, mask) strips.

    The tile covers its box with the rounded mask, which is 255 except in `_corner_rows` rows
    at the top and bottom: there the tile replaces whatever lay below (blending at 255 is
    exact), so the shadow under those rows need not be drawn, and the tile itself needs no
    mask there. What is left is the shadow's frame around the tile plus the corner rows, and
    the tile's corner rows: a fifth of the pixels for a 1080x1080 creative's card."""
    w, h = size
    c = _corner_rows(size, radius)
    out: list[Strip] = []
    if shadow > 0:
        pad = shadow * 3
        layer = _shadow(size, radius, shadow)
        lw, lh = layer.size
        for box in (
            (0, 0, lw, pad + c),  # above the tile, and its top corner rows
            (0, pad + h - c, lw, lh),  # below, and its bottom corner rows
            (0, pad + c, pad, pad + h - c),  # left of the opaque rows
            (pad + w, pad + c, lw, pad + h - c),  # right of them
        ):
            if box[2] > box[0] and box[3] > box[1]:
                out.append(("shadow", (box[0] - pad, box[1] - pad), layer.crop(box)))
    mask = rounded_mask(size, radius)
    for box in ((0, 0, w, c), (0, h - c, w, h)):
        if box[3] > box[1]:
            out.append(("tile", box[:2], mask.crop(box)))
    return tuple(out)


# (what is pasted: "shadow" or "tile", offset from the tile's top-left, mask of the strip)
Strip = tuple[str, tuple[int, int], Image.Image]


def paste_card(
    canvas: Image.Image,
    tile: Image.Image,
    xy: tuple[int, int],
    radius: int,
    shadow: int,
    shadow_colour: RGB,
) -> None:
    """Paste `tile` with rounded corners and a soft drop shadow of `shadow` px: the same
    pixels as pasting the whole shadow and then the whole tile through its rounded mask, but
    blending only the strips where that can differ from the tile itself (`_strips`)."""
    x, y = xy
    w, h = tile.size
    c = _corner_rows(tile.size, radius)
    if h < STRIPS_FROM or 2 * c >= h:  # small: both layers whole
        if shadow > 0:
            layer = _shadow(tile.size, radius, shadow)
            colour = Image.new("RGB", layer.size, shadow_colour)
            canvas.paste(colour, (x - shadow * 3, y - shadow * 3), layer)
        canvas.paste(tile, xy, rounded_mask(tile.size, radius))
        return
    strips = _strips(tile.size, radius, shadow)
    for kind, (dx, dy), mask in strips:
        if kind == "shadow":
            colour = Image.new("RGB", mask.size, shadow_colour)
            canvas.paste(colour, (x + dx, y + dy), mask)
    canvas.paste(tile.crop((0, c, w, h - c)), (x, y + c))  # the opaque rows: a plain copy
    for kind, (dx, dy), mask in strips:
        if kind == "tile":
            part = tile.crop((dx, dy, dx + mask.width, dy + mask.height))
            canvas.paste(part, (x + dx, y + dy), mask)


def scale_photo(image: Image.Image, side: int) -> Image.Image:
    """An RGBA cut-out as a `side` px square: padded (never cropped) and resampled, nothing else.
    No sharpening: the shop's pixels are only resampled (Pillow resizes RGBA premultiplied, so
    edges get no dark fringe)."""
    img = image if image.mode == "RGBA" else image.convert("RGBA")
    if img.width != img.height:
        s = max(img.size)
        square = Image.new("RGBA", (s, s), (0, 0, 0, 0))
        square.paste(img, ((s - img.width) // 2, (s - img.height) // 2))
        img = square
    if img.width != side:
        img = img.resize((side, side), FILTER, reducing_gap=3.0 if img.width > side else None)
    return img


def paste_cutout(
    canvas: Image.Image, tile: Image.Image, xy: tuple[int, int], shadow: int, shadow_colour: RGB
) -> None:
    """Paste an RGBA `tile` by its alpha, over a soft shadow cast by the product's own shape."""
    alpha = tile.getchannel("A")
    if shadow > 0:
        pad = shadow * 3
        layer = Image.new("L", (tile.width + 2 * pad, tile.height + 2 * pad), 0)
        layer.paste(alpha.point(lambda v: v * 80 // 255), (pad, pad + shadow // 2))
        layer = layer.filter(ImageFilter.GaussianBlur(shadow))
        colour = Image.new("RGB", layer.size, shadow_colour)
        canvas.paste(colour, (xy[0] - pad, xy[1] - pad), layer)
    canvas.paste(tile.convert("RGB"), xy, alpha)
