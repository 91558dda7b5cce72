"""CPU and bytes of each way to encode a creative, on real creatives.

    python -m bench.encode_bench [--rounds 1]

Composes the standard event (2 variants x 5 sizes) for every sample event with the default
model's images, then encodes every creative with each candidate: Pillow PNG at several zlib
levels, fpng, JPEG and WebP at a few settings. CPU is `time.process_time()` of this process,
best of three passes (the box is shared); bytes are the mean per creative.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

from PIL import Image

from bench.outside_models import standard_events
from shared.compose import compose_creative
from shared.config import get_settings
from shared.encoding import Encoding
from shared.generation import GeneratorRuntime
from shared.personalize import plan_event


def creatives(rounds: int) -> list[Image.Image]:
    rt = GeneratorRuntime.load(get_settings().resolved_model_dir, "cpu", max_batch=64)
    out = []
    for ev in standard_events("enc", 5 * rounds):
        plan = plan_event(ev)
        imgs = rt.generate([r.prompt for r in plan.images], [r.seed for r in plan.images])
        by_key = {r.key: im for r, im in zip(plan.images, imgs, strict=True)}
        out += [
            compose_creative(cp, [by_key[k] for k in cp.image_keys], ev) for cp in plan.creatives
        ]
    return out


def _pil(fmt: str, **options: object) -> Callable[[Image.Image], bytes]:
    def encode(img: Image.Image) -> bytes:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **options)
        return buf.getvalue()

    return encode


CANDIDATES: dict[str, Callable[[Image.Image], bytes]] = {
    **{f"PNG zlib level {lvl}": _pil("PNG", compress_level=lvl) for lvl in (1, 3, 6, 9)},
    "PNG fpng (default)": Encoding().encode,
    "JPEG q75": _pil("JPEG", quality=75),
    "JPEG q85": Encoding("jpeg", quality=85).encode,
    "JPEG q85 4:4:4": _pil("JPEG", quality=85, subsampling=0),
    "JPEG q95": _pil("JPEG", quality=95),
    "WebP q80 method 0": Encoding("webp", quality=80).encode,
    "WebP q80 method 4": _pil("WEBP", quality=80, method=4),
    "WebP lossless method 0": _pil("WEBP", lossless=True, quality=0, method=0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1, help="5 standard events per round")
    args = ap.parse_args()
    imgs = creatives(args.rounds)
    px = sum(im.width * im.height for im in imgs) / len(imgs)
    print(f"{len(imgs)} creatives, mean {px / 1000:.0f} k pixels\n")
    print("| encoder | CPU ms per creative | KiB per creative |\n|---|---|---|")
    for name, encode in CANDIDATES.items():
        best, size = float("inf"), 0
        for _ in range(3):
            t0 = time.process_time()
            size = sum(len(encode(im)) for im in imgs)
            best = min(best, time.process_time() - t0)
        print(f"| {name} | {best * 1000 / len(imgs):.2f} | {size / len(imgs) / 1024:.1f} |")


if __name__ == "__main__":
    main()
