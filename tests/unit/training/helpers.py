"""Synthetic catalogs and a fake text encoder so loop tests need no model download or render."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from shared.catalog.format import CatalogItem, write_metadata
from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions

SHAPES = {
    "red square": ((220, 30, 30), "square"),
    "blue circle": ((30, 60, 220), "circle"),
    "green triangle": ((30, 170, 60), "triangle"),
    "yellow bar": ((235, 200, 20), "bar"),
}


def fake_embed(texts: list[str]) -> torch.Tensor:
    """Deterministic unit vectors keyed by the text (stands in for the sentence encoder)."""
    rows = []
    for text in texts:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        rows.append(torch.randn(384, generator=torch.Generator().manual_seed(seed)))
    return torch.nn.functional.normalize(torch.stack(rows), dim=1)


def shape_image(colour: tuple[int, int, int], kind: str, size: int) -> Image.Image:
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    a, b = size // 8, size - size // 8 - 1
    if kind == "square":
        draw.rectangle([a, a, b, b], fill=colour)
    elif kind == "circle":
        draw.ellipse([a, a, b, b], fill=colour)
    elif kind == "triangle":
        draw.polygon([(size // 2, a), (a, b), (b, b)], fill=colour)
    else:
        draw.rectangle([a, size // 2 - size // 8, b, size // 2 + size // 8], fill=colour)
    return image


def synthetic_catalog(root: Path, size: int = 16) -> dict[str, np.ndarray]:
    (root / "images").mkdir(parents=True, exist_ok=True)
    items, pixels = [], {}
    for caption, (colour, kind) in SHAPES.items():
        image = shape_image(colour, kind, size)
        name = f"images/{caption.replace(' ', '_')}.png"
        image.save(root / name)
        items.append(CatalogItem(name, [caption], "toys", "train", caption, "user"))
        pixels[caption] = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    write_metadata(root, items)
    return pixels


TINY = {"image_size": 16, "z_dim": 8, "ngf": 4, "ndf": 4, "cond_hidden": 8, "diffaugment": ""}


def tiny_options(data: Path, out: Path, steps: int, cfg: GANConfig, **kw: object) -> TrainOptions:
    """A CPU run of a tiny model: batch 4, fp32, one thread, no sample grids."""
    return TrainOptions(
        data=data,
        out=out,
        cfg=cfg,
        steps=steps,
        batch_size=4,
        device="cpu",
        precision="fp32",
        threads=1,
        sample_every=10_000,
        **{"checkpoint_every": 10_000, **kw},  # type: ignore[arg-type]
    )
