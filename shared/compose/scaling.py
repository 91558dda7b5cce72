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

from PIL import Image, ImageDraw, ImageFilter

from shared.compose.colors import RGB

FILTER = Image.Resampling.LANCZOS
SHARPEN_PERCENT = 30
SHARPEN_THRESHOLD = 3

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


def paste_card(
    canvas: Image.Image,
    tile: Image.Image,
    xy: tuple[int, int],
    radius: int,
    shadow: int,
    shadow_colour: RGB,
) -> None:
    """Paste `tile` with rounded corners and a soft drop shadow of `shadow` px."""
    mask = rounded_mask(tile.size, radius)
    if shadow > 0:
        pad = shadow * 3
        layer = _shadow(tile.size, radius, shadow)
        colour = Image.new("RGB", layer.size, shadow_colour)
        canvas.paste(colour, (xy[0] - pad, xy[1] - pad), layer)
    canvas.paste(tile, xy, mask)


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
