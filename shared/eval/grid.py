"""Sample grid for a report: one row per image source, one column per caption."""

from __future__ import annotations

import textwrap
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

SCALE, LABEL_W, HEAD_H = 2, 90, 34


def save_grid(path: Path, captions: list[str], rows: dict[str, torch.Tensor]) -> Path:
    """rows: name -> uint8 [len(captions), 3, S, S]; upscaled x2 with nearest (no smoothing)."""
    font = ImageFont.load_default()
    s = next(iter(rows.values())).shape[-1] * SCALE
    width, height = LABEL_W + s * len(captions), HEAD_H + s * len(rows)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, caption in enumerate(captions):
        lines = textwrap.wrap(caption, 20)[:3]
        draw.multiline_text(
            (LABEL_W + c * s + 2, 1), "\n".join(lines), fill=(0, 0, 0), font=font, spacing=0
        )
    for r, (name, images) in enumerate(rows.items()):
        y = HEAD_H + r * s
        draw.text((4, y + s // 2 - 6), name, fill=(0, 0, 0), font=font)
        arr = images.permute(0, 2, 3, 1).numpy()
        for c in range(len(captions)):
            tile = Image.fromarray(arr[c], "RGB").resize((s, s), Image.Resampling.NEAREST)
            canvas.paste(tile, (LABEL_W + c * s, y))
    canvas.save(path, optimize=True)
    return path
