"""Small hostile and awkward photo files, made in code (we commit no photo data)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


def encode(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_claiming(width: int, height: int) -> bytes:
    """A ~100-byte PNG whose header claims width x height (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def product_on_white(
    size: int = 200, colour: tuple[int, int, int] = (200, 30, 40), shadow: bool = False
) -> Image.Image:
    """An anti-aliased disc (drawn at 4x, reduced) on white, with a white square inside it
    that does not touch the background, and optionally a soft grey shadow under it."""
    big = Image.new("RGB", (size * 4, size * 4), (255, 255, 255))
    d = ImageDraw.Draw(big)
    if shadow:
        d.ellipse((size * 1.2, size * 3.3, size * 2.8, size * 3.7), fill=(215, 215, 215))
    d.ellipse((size, size, size * 3, size * 3), fill=colour)
    d.rectangle((size * 1.8, size * 1.8, size * 2.2, size * 2.2), fill=(255, 255, 255))
    return big.resize((size, size), Image.Resampling.LANCZOS)


def gradient16(width: int = 32, height: int = 8) -> Image.Image:
    """A 16-bit grey ramp (mode I;16), 0 .. 65535 across."""
    ramp = np.linspace(0, 65535, width).round().astype(np.uint16)
    return Image.fromarray(np.tile(ramp, (height, 1)))


def animated_gif(
    colours: tuple[tuple[int, int, int], ...] = ((255, 0, 0), (0, 0, 255), (0, 255, 0)),
) -> bytes:
    frames = [Image.new("RGB", (16, 16), c) for c in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def exif_rotated_jpeg() -> bytes:
    """40x20, left half red, right half blue, tagged orientation 6 (display rotated 90 cw)."""
    img = Image.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(img, "JPEG", quality=95, exif=exif.tobytes())


def palette_with_transparency() -> bytes:
    img = Image.new("P", (16, 16), 0)
    img.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    ImageDraw.Draw(img).rectangle((4, 4, 11, 11), fill=1)
    return encode(img, "PNG", transparency=0)


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
