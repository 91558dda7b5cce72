"""Product tiles by tensor ops vs by Pillow: the same creatives both ways, a pixel metric and a
contact sheet to look at.

    python -m bench.tiles_look [--events 5] [--sheet PATH] [--model DIR]

Composes the sample events at the five standard sizes (2 variants) with the trained generator's
images, once with `scale_product` (Pillow) at composition and once with the tiles from
`shared.compose.upscale.event_tiles` (CPU here; the same ops run on the generator's device),
and prints PSNR and the largest pixel difference per size. The sheet shows, per creative,
Pillow | tensor ops | |difference| x 16.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from shared.compose.parts_cache import PartsCache, compose_cached
from shared.compose.upscale import event_tiles
from shared.config import get_settings
from shared.generation import GeneratorRuntime
from shared.personalize import plan_event
from shared.samples import sample_events

SIZES = ["300x250", "728x90", "160x600", "320x50", "1080x1080"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5)
    ap.add_argument("--sheet", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    rt = GeneratorRuntime.load(args.model or get_settings().resolved_model_dir, "cpu")
    cache = PartsCache()
    rows: list[list[Image.Image]] = []
    by_size: dict[str, list[tuple[float, int]]] = {}
    for event in sample_events("look", count=2, sizes=SIZES)[: args.events]:
        plan = plan_event(event)
        made = rt.generate([r.prompt for r in plan.images], [r.seed for r in plan.images])
        images = {r.key: im for r, im in zip(plan.images, made, strict=True)}
        tiles = event_tiles(plan, images, "cpu")
        for cp in plan.creatives:
            shown = [images[k] for k in cp.image_keys]
            before = compose_cached(cp, shown, event, cache=cache)
            after = compose_cached(
                cp, shown, event, cache=cache, tiles=tiles.for_creative(cp.image_keys)
            )
            a, b = np.asarray(before), np.asarray(after)
            by_size.setdefault(cp.size, []).append(
                (psnr(a, b), int(np.abs(a.astype(int) - b).max()))
            )
            diff = ImageChops.difference(before, after).point(lambda v: min(255, v * 16))
            rows.append([before, after, diff])
    for size, vals in by_size.items():
        print(
            f"{size:9s} creatives {len(vals):2d}  PSNR min {min(p for p, _ in vals):5.1f} dB "
            f"mean {np.mean([p for p, _ in vals]):5.1f} dB  largest pixel difference "
            f"{max(m for _, m in vals)}"
        )
    if args.sheet:
        _sheet(rows, args.sheet)
        print(f"sheet: {args.sheet}")


def _sheet(rows: list[list[Image.Image]], out: Path) -> None:
    """One row per 1080x1080 creative: Pillow and tensor ops at half size, then 200 px around
    the largest difference, both ways and the difference x 16, at 2x (nearest)."""
    gap = 8
    cells = []
    for before, after, diff in rows:
        if before.size != (1080, 1080):
            continue
        d = np.asarray(diff).max(axis=2)
        yx = np.unravel_index(int(d.argmax()), d.shape)
        y, x = int(yx[0]), int(yx[1])
        x0, y0 = min(max(0, x - 100), 880), min(max(0, y - 100), 880)
        box = (x0, y0, x0 + 200, y0 + 200)
        zoom = [
            im.crop(box).resize((400, 400), Image.Resampling.NEAREST)
            for im in (before, after, diff)
        ]
        cells.append([before.resize((540, 540)), after.resize((540, 540)), *zoom])
    width = 2 * 540 + 3 * 400 + 4 * gap
    sheet = Image.new("RGB", (width, 20 + len(cells) * (540 + gap)), (255, 255, 255))
    ImageDraw.Draw(sheet).text(
        (4, 4),
        "Pillow | tensor ops (half size) || largest difference, 2x: Pillow | tensor ops | x16",
        fill=(0, 0, 0),
    )
    top = 20
    for row in cells:
        left = 0
        for im in row:
            sheet.paste(im, (left, top))
            left += im.width + gap
        top += 540 + gap
    sheet.save(out)


if __name__ == "__main__":
    main()
