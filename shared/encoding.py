"""How a finished creative becomes bytes: PNG (lossless), WebP or JPEG, as configured.

Measured on real creatives (bench/encode_bench.py; 2 variants x 5 sizes, mean 284 k pixels):
Pillow's PNG (zlib level 3) costs ~7.8 ms of CPU per creative, fpng ~0.5 ms for the same
pixels in a ~15% larger file, JPEG q85 ~0.85 ms at ~40% of the size, WebP (method 0) ~5 ms.
The default is lossless PNG written by fpng: same pixels and content type as before, so the
analytics, previews and scoring read what they always did, at a fifteenth of the CPU.

A finished creative's pixels are read out of Pillow once (`Pixels`): the encoder and the
creative statistics both read those bytes.  Pillow keeps RGB as four bytes per pixel, so every
read-out is a packing pass, not a memcpy; two of them (one for fpng, one for the statistics)
cost ~0.5 ms per standard creative (bench/RESULTS.md, issue 16).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

FORMATS = ("png", "webp", "jpeg")
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {"png": "png", "webp": "webp", "jpeg": "jpg"}


@dataclass(frozen=True)
class Pixels:
    """A creative's packed RGB bytes (row-major, 3 per pixel), read out of Pillow once."""

    data: bytes
    width: int
    height: int

    @classmethod
    def of(cls, img: Image.Image) -> Pixels:
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        return cls(rgb.tobytes(), rgb.width, rgb.height)

    def array(self) -> np.ndarray:
        """[H, W, 3] uint8, a read-only view of the bytes (no copy)."""
        return np.frombuffer(self.data, np.uint8).reshape(self.height, self.width, 3)

    def image(self) -> Image.Image:
        return Image.frombuffer("RGB", (self.width, self.height), self.data, "raw", "RGB", 0, 1)


@dataclass(frozen=True)
class Encoding:
    """`format` png|webp|jpeg; `quality` 1-100 for the lossy two; `png_level` 0-9 for
    `png_encoder="zlib"` (Pillow); `png_encoder="fast"` is fpng (no level: one fast setting)."""

    format: str = "png"
    quality: int = 85
    png_level: int = 3
    png_encoder: str = "fast"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown creative format {self.format!r} (one of {FORMATS})")
        if self.png_encoder not in ("fast", "zlib"):
            raise ValueError(f"unknown PNG encoder {self.png_encoder!r} (fast or zlib)")

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.format]

    def encode(self, img: Image.Image) -> bytes:
        return self.encode_pixels(Pixels.of(img))

    def encode_pixels(self, pixels: Pixels) -> bytes:
        if self.format == "png" and self.png_encoder == "fast":
            return _fpng(pixels)
        img = pixels.image()
        buf = io.BytesIO()
        if self.format == "png":
            img.save(buf, format="PNG", compress_level=self.png_level)
        elif self.format == "jpeg":
            # 4:2:0 chroma (Pillow's default at this quality): 4:4:4 costs 60% more CPU and
            # 35% more bytes for edges a viewer of an ad at 1x does not see.
            img.save(buf, format="JPEG", quality=self.quality, optimize=False)
        else:
            # method 0: the fastest WebP effort; method 4 (the default) costs 3x the CPU.
            img.save(buf, format="WEBP", quality=self.quality, method=0)
        return buf.getvalue()


def _fpng(pixels: Pixels) -> bytes:
    import fpng  # imported here: a worker configured for JPEG or WebP never needs it

    data: bytes = fpng.from_bytes(pixels.data, pixels.width, pixels.height, 3)
    return data
