"""Creative encodings: format, content type and extension agree; PNG stays lossless."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from shared.encoding import Encoding, Pixels
from shared.ids import object_key


def _creative() -> Image.Image:
    rng = np.random.default_rng(3)
    pixels = np.full((90, 160, 3), 240, np.uint8)
    pixels[20:70, 30:80] = rng.integers(0, 255, (50, 50, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.mark.parametrize(
    ("encoding", "pil_format"),
    [
        (Encoding("png"), "PNG"),
        (Encoding("png", png_encoder="zlib"), "PNG"),
        (Encoding("jpeg", quality=80), "JPEG"),
        (Encoding("webp", quality=80), "WEBP"),
    ],
)
def test_bytes_are_the_declared_format(encoding: Encoding, pil_format: str) -> None:
    img = _creative()
    data = encoding.encode(img)
    back = Image.open(io.BytesIO(data))
    assert back.format == pil_format and back.size == img.size
    assert encoding.content_type == Image.MIME[pil_format]
    if encoding.format == "png":
        assert back.convert("RGB").tobytes() == img.tobytes()  # lossless, both encoders
    else:
        diff = np.abs(np.asarray(back.convert("RGB"), np.int16) - np.asarray(img, np.int16))
        assert diff.mean() < 12  # lossy, but the same picture


def test_encoding_is_deterministic() -> None:
    """Redelivered events overwrite objects with identical bytes."""
    for enc in (Encoding("png"), Encoding("jpeg"), Encoding("webp")):
        assert enc.encode(_creative()) == enc.encode(_creative())


def test_extension_follows_the_format() -> None:
    assert [Encoding(f).ext for f in ("png", "webp", "jpeg")] == ["png", "webp", "jpg"]
    assert object_key("c", "e", "x", Encoding("jpeg").ext) == "creatives/c/e/x.jpg"


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Encoding("gif")
    with pytest.raises(ValueError):
        Encoding("png", png_encoder="lz4")


def test_non_rgb_input_is_converted() -> None:
    rgba = _creative().convert("RGBA")
    back = Image.open(io.BytesIO(Encoding("png").encode(rgba)))
    assert back.mode == "RGB"


def test_pixels_are_read_out_once_and_shared() -> None:
    """The worker reads a creative's pixels out of Pillow once; the encoder and the scorer's
    statistics both read those bytes, and encoding them equals encoding the image."""
    img = _creative()
    pixels = Pixels.of(img)
    view = pixels.array()
    assert view.shape == (90, 160, 3) and not view.flags.writeable
    assert np.array_equal(view, np.asarray(img))
    assert view.base.base is pixels.data  # a view of the bytes (reshaped), not a copy
    assert pixels.image().tobytes() == img.tobytes()
    for enc in (Encoding("png"), Encoding("png", png_encoder="zlib"), Encoding("jpeg")):
        assert enc.encode_pixels(pixels) == enc.encode(img)
    rgba = img.convert("RGBA")
    assert Pixels.of(rgba).data == img.tobytes()  # any mode is read out as RGB
