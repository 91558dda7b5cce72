"""Bytes from a shop -> an upright sRGB RGBA image, or a rejection with a reason. Pure Pillow.

Every photo is hostile until decoded. The limits are checked in the order that keeps the work
bounded: file size before parsing, the header's pixel count before decoding a single pixel
(a small PNG can claim 50000 x 50000), then one frame is decoded (at a reduced scale where
JPEG allows it) and shrunk to the working size. Decoding time is therefore bounded by
`max_pixels`; nothing else in here loops over input-controlled counts. Any exception a decoder
raises becomes a rejection: Pillow's plugins raise many types on malformed input, and a bad
photo must never take a worker down.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Formats shops photograph in. Not TIFF/PSD/EPS etc.: every extra plugin is more attack surface.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N", "I")


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 25_000_000
    max_side: int = 1024  # working size: the largest ad tile is smaller than this

    @classmethod
    def from_settings(cls, settings: Any) -> PhotoLimits:
        return cls(settings.photo_max_bytes, settings.photo_max_pixels, settings.photo_max_side)


@dataclass(frozen=True)
class PhotoRejection:
    reason: str
    key: str = ""


@dataclass(frozen=True)
class PhotoResult:
    """A decoded photo. `image` is RGBA; after `cutout` (see fetch) its alpha is the matte."""

    image: Image.Image
    sha256: str  # of the bytes the shop uploaded
    format: str
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()  # what decoding did: "exif-rotated", "cmyk->srgb", ...
    key: str = ""  # catalog key, when fetched from the store
    matte: str = ""  # alpha | border | none, once cut out


def load_photo(data: bytes, limits: PhotoLimits | None = None) -> PhotoResult | PhotoRejection:
    """Decode `data` safely; never raises for bad input."""
    limits = limits or PhotoLimits()
    if not data:
        return PhotoRejection("empty file")
    if len(data) > limits.max_bytes:
        return PhotoRejection(
            f"file of {len(data)} bytes exceeds the {limits.max_bytes}-byte limit"
        )
    try:
        return _decode(data, limits)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return PhotoRejection(f"decompression bomb refused: {exc}")
    except UnidentifiedImageError:
        return PhotoRejection(f"not an image in a supported format ({', '.join(FORMATS)})")
    except MemoryError:
        return PhotoRejection("image needs more memory than allowed")
    except Exception as exc:  # noqa: BLE001 - decoders raise anything on hostile input
        text = str(exc) or type(exc).__name__
        if "truncated" in text:
            return PhotoRejection(f"truncated image: {text}")
        return PhotoRejection(f"unreadable image: {type(exc).__name__}: {text}"[:300])


def _decode(data: bytes, limits: PhotoLimits) -> PhotoResult | PhotoRejection:
    notes: list[str] = []
    # Pillow refuses headers over twice its MAX_IMAGE_PIXELS (DecompressionBombError); ours is
    # lower (settings cap it below Pillow's), so its warning zone is never decoded either.
    img: Image.Image = Image.open(io.BytesIO(data), formats=FORMATS)
    fmt = img.format or "?"
    w, h = img.size
    if w < 1 or h < 1 or w * h > limits.max_pixels:
        return PhotoRejection(
            f"{w}x{h} = {w * h} pixels exceeds the {limits.max_pixels}-pixel "
            "limit (checked before decoding)"
        )
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        notes.append(f"first of {frames} frames")
    if fmt == "JPEG":
        img.draft(img.mode, (limits.max_side, limits.max_side))  # DCT scaling: decode less
    img.load()  # raises on truncated data (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
    exif = img.getexif()
    if exif.get(0x0112, 1) not in (1, None):
        img = ImageOps.exif_transpose(img)
        notes.append(f"exif-rotated (orientation {exif.get(0x0112)})")
    rgba = to_rgba(img, notes)
    if max(rgba.size) > limits.max_side:
        scale = limits.max_side / max(rgba.size)
        size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
        rgba = rgba.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        notes.append(f"downscaled to {size[0]}x{size[1]}")
    return PhotoResult(rgba, hashlib.sha256(data).hexdigest(), fmt, (w, h), tuple(notes))


def to_rgba(img: Image.Image, notes: list[str] | None = None) -> Image.Image:
    """Any decoded mode as 8-bit sRGB RGBA, keeping transparency (tRNS, palette, LA, PA)."""
    notes = notes if notes is not None else []
    if img.mode in _SIXTEEN_BIT:
        # Pillow's own I;16 -> RGB conversion clips at 255 (a mid-grey turns white); scale.
        grey = np.asarray(img).astype(np.uint32)
        if img.mode != "I" or grey.max(initial=0) > 255:
            grey = (grey + 128) // 257
        notes.append(f"{img.mode} scaled to 8 bits")
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGBA")
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        converted = _to_srgb(img, icc)
        if converted is not None:
            notes.append(f"{img.mode} ICC profile -> sRGB")
            return converted.convert("RGBA")
    if img.mode == "CMYK":
        notes.append("CMYK -> RGB (no ICC profile)")
        return img.convert("RGB").convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "P", "L", "RGB", "1", "La", "RGBa"):
        return img.convert("RGBA")  # Pillow applies info["transparency"] for P, L and RGB
    return img.convert("RGB").convert("RGBA")  # YCbCr, LAB, HSV, ...


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image | None:
    """`img` converted from its embedded profile to sRGB; None if it is sRGB or unusable."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in (ImageCms.getProfileDescription(src) or "").lower():
            return None
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        srgb = ImageCms.createProfile("sRGB")
        result = ImageCms.profileToProfile(img, src, srgb, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile: fall back to the plain conversion
    return result
