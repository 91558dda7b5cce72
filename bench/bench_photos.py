"""What a shop photo costs a worker: decoding at the limits, and the cut-out.

    OMP_NUM_THREADS=1 python -m bench.bench_photos

Builds its inputs in memory (a 25 MP packshot as PNG and as JPEG: the largest the default
`ADGEN_PHOTO_MAX_PIXELS` allows; the demo's 720 x 540 photo; a decompression bomb) and prints
the best of a few runs of `load_photo` and `cutout` on each. Absolute times depend on load.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from shared.photos.cutout import cutout
from shared.photos.load import PhotoLimits, PhotoResult, load_photo
from shared.samples import sample_product_photo


def best(fn: Callable[[], Any], rounds: int = 3) -> tuple[float, Any]:
    out, fastest = None, float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        fastest = min(fastest, time.perf_counter() - t0)
    return fastest, out


def packshot(w: int, h: int) -> Image.Image:
    """A red disc on white with a little sensor noise, w x h."""
    img = Image.new("RGB", (w, h), (255, 255, 255))
    ImageDraw.Draw(img).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(200, 30, 40))
    noise = np.random.default_rng(0).integers(-3, 4, size=(h, w, 3))
    return Image.fromarray(np.clip(np.asarray(img) + noise, 0, 255).astype(np.uint8))


def encode(img: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def main() -> None:
    big = packshot(6100, 4096)  # 24.98 MP
    cases = {
        "25 MP PNG": encode(big, "PNG", compress_level=1),
        "25 MP JPEG": encode(big, "JPEG", quality=90),
        "demo photo 720x540 JPEG": sample_product_photo(),
    }
    limits = PhotoLimits(max_bytes=64 << 20)  # measure decoding, not the byte cap
    for name, data in cases.items():
        t_load, result = best(partial(load_photo, data, limits), 2)
        assert isinstance(result, PhotoResult), result
        t_cut, (_, matte) = best(partial(cutout, result.image))
        print(
            f"{name:26} {len(data) / 1e6:6.1f} MB  load {t_load * 1000:8.1f} ms  "
            f"-> {result.image.size}  cutout {t_cut * 1000:6.1f} ms ({matte})"
        )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    # ~100 bytes claiming 50000 x 50000
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    t_bomb, rejected = best(lambda: load_photo(bomb), 5)
    print(f"decompression bomb: rejected in {t_bomb * 1000:.2f} ms: {rejected}")


if __name__ == "__main__":
    main()
