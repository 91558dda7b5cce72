"""Hostile photos: each is a clear rejection or a correct render, never a crash or a hang."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from shared.photos.load import PhotoLimits, PhotoRejection, PhotoResult, load_photo
from tests.unit.photos import hostile

pytestmark = pytest.mark.timeout(20)


def _ok(data: bytes, limits: PhotoLimits | None = None) -> PhotoResult:
    result = load_photo(data, limits)
    assert isinstance(result, PhotoResult), result
    assert result.image.mode == "RGBA"
    return result


def _rejected(data: bytes, limits: PhotoLimits | None = None) -> str:
    t0 = time.perf_counter()
    result = load_photo(data, limits)
    assert time.perf_counter() - t0 < 2, "a rejection must be quick"
    assert isinstance(result, PhotoRejection), result
    return result.reason


@pytest.mark.parametrize(
    "data",
    [
        b"hello, not a picture",
        b"<html><img src=x></html>",
        b"%PDF-1.7\n" + b"\x00" * 100,
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_not_an_image(data: bytes) -> None:
    assert "not an image" in _rejected(data) or "unreadable" in _rejected(data)


def test_empty_file() -> None:
    assert _rejected(b"") == "empty file"


def test_unsupported_format_is_refused_even_if_pillow_reads_it() -> None:
    bmp = hostile.encode(Image.new("RGB", (8, 8), "red"), "BMP")
    assert "supported format" in _rejected(bmp)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(fmt: str) -> None:
    data = hostile.encode(hostile.product_on_white(120), fmt)
    assert "truncated" in _rejected(data[: len(data) // 2])


def test_decompression_bomb_is_refused_from_the_header() -> None:
    data = hostile.png_claiming(50_000, 50_000)
    assert len(data) < 200
    assert "decompression bomb" in _rejected(data)


def test_own_pixel_cap_applies_before_decoding() -> None:
    """6000 x 5000 passes Pillow's own limit but not ours (checked from the header)."""
    reason = _rejected(hostile.png_claiming(6000, 5000))
    assert "30000000 pixels exceeds" in reason and "before decoding" in reason


def test_too_many_bytes_is_refused_without_parsing() -> None:
    data = hostile.encode(hostile.product_on_white(64))
    assert "exceeds the 1024-byte limit" in _rejected(data, PhotoLimits(max_bytes=1024))


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    r = _ok(hostile.encode(hostile.gradient16()))
    row = np.asarray(r.image)[0, :, 0]
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row.astype(int)) >= 0) and 100 < row[len(row) // 2] < 155
    assert any("8 bits" in n for n in r.notes)


def test_cmyk_becomes_the_right_rgb() -> None:
    r = _ok(hostile.cmyk_jpeg())
    red, green, blue, alpha = np.asarray(r.image)[8, 8]
    assert red > 200 and green < 60 and blue < 60 and alpha == 255


def test_palette_transparency_becomes_alpha() -> None:
    px = np.asarray(_ok(hostile.palette_with_transparency()).image)
    assert px[0, 0, 3] == 0 and tuple(px[8, 8]) == (200, 0, 0, 255)


def test_la_keeps_its_alpha() -> None:
    la = Image.new("LA", (8, 8), (90, 0))
    la.putpixel((4, 4), (90, 255))
    px = np.asarray(_ok(hostile.encode(la)).image)
    assert px[0, 0, 3] == 0 and tuple(px[4, 4]) == (90, 90, 90, 255)


def test_exif_rotation_is_applied() -> None:
    r = _ok(hostile.exif_rotated_jpeg())
    assert r.image.size == (20, 40) and r.original_size == (40, 20)
    px = np.asarray(r.image)
    assert px[5, 10, 0] > 200 and px[5, 10, 2] < 60  # the red half is now on top
    assert px[35, 10, 2] > 200 and px[35, 10, 0] < 60
    assert any("exif-rotated" in n for n in r.notes)


def test_animated_gif_gives_its_first_frame() -> None:
    r = _ok(hostile.animated_gif())
    assert tuple(np.asarray(r.image)[8, 8]) == (255, 0, 0, 255)
    assert "first of 3 frames" in r.notes


def test_animated_png_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in ((0, 0, 255), (255, 0, 0))]
    data = hostile.encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert tuple(np.asarray(_ok(data).image)[8, 8]) == (0, 0, 255, 255)


def test_big_photos_are_decoded_at_working_size() -> None:
    data = hostile.encode(hostile.product_on_white(600), "JPEG", quality=90)
    r = _ok(data, PhotoLimits(max_side=256))
    assert max(r.image.size) == 256 and r.original_size == (600, 600)


def test_icc_profile_other_than_srgb_is_converted() -> None:
    from PIL import ImageCms

    lab_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    img = Image.new("RGB", (8, 8), (120, 60, 30))
    r = _ok(hostile.encode(img, "PNG", icc_profile=lab_like))  # unusable as RGB: kept as is
    assert tuple(np.asarray(r.image)[0, 0][:3]) == (120, 60, 30)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    r = _ok(hostile.encode(img, "PNG", icc_profile=srgb))  # sRGB: untouched
    assert tuple(np.asarray(r.image)[0, 0][:3]) == (120, 60, 30) and r.notes == ()


def test_random_garbage_after_a_valid_header_never_raises() -> None:
    rng = np.random.default_rng(0)
    good = hostile.encode(hostile.product_on_white(48))
    for _ in range(40):
        data = bytearray(good)
        for i in rng.integers(8, len(data), size=8):
            data[i] = int(rng.integers(0, 256))
        assert isinstance(load_photo(bytes(data)), PhotoResult | PhotoRejection)


def test_sha256_is_of_the_uploaded_bytes() -> None:
    import hashlib

    data = hostile.encode(hostile.product_on_white(32))
    assert _ok(data).sha256 == hashlib.sha256(data).hexdigest()
    assert Image.open(io.BytesIO(data)).size == (32, 32)
