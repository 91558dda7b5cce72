"""Diversity: how different are the seeds of one prompt, next to real renders of one product?

Both are the mean pairwise cosine distance of EfficientNet-Lite2 pooled features (a network no
generator trains against).  Real renders of one concept are its base and jittered pictures in
both art styles (placement and style vary; recolours and backgrounds are left out because a
prompt fixes the colour), so "half as diverse as real" is a concrete bar.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import without_colour
from shared.catalog.format import load_catalog, load_image
from shared.eval.lite2 import lite2_encode
from shared.eval.registry import compute


def _uint8(images: list[Image.Image]) -> torch.Tensor:
    return (
        torch.from_numpy(np.stack([np.asarray(im.convert("RGB")) for im in images]))
        .permute(0, 3, 1, 2)
        .contiguous()
    )


def sample_diversity(images: list[Image.Image], cells: list[str]) -> float:
    """Mean pairwise Lite2 cosine distance between images that share a prompt."""
    out = compute("seed_diversity", lite2_encode(_uint8(images)).features, cells)
    return out.get("seed_diversity", float("nan"))


def nearest_train_distance(images: list[Image.Image], data: Path, size: int = 64) -> float:
    """Mean Lite2 cosine distance from each image to its nearest training-split picture (the
    copy guard beside seed diversity; the training features are computed once per catalog)."""
    out = compute(
        "nearest_train_distance", lite2_encode(_uint8(images)).features, _train_features(data, size)
    )
    return out["nearest_train_distance"]


@lru_cache(maxsize=2)
def _train_features(data: Path, size: int) -> np.ndarray:
    items = [it for it in load_catalog(data, "train") if "__background" not in it.file_name]
    return lite2_encode(_uint8([load_image(it, size) for it in items])).features


def real_diversity(data: Path, prompts: list[str], size: int = 64) -> float:
    """The same figure for the catalog's base + jittered renders of the prompts' products
    (cached: a learning curve asks for the same prompts at every snapshot)."""
    return _real_diversity(Path(data), tuple(prompts), size)


@lru_cache(maxsize=8)
def _real_diversity(data: Path, prompts: tuple[str, ...], size: int) -> float:
    kinds = {without_colour(p) for p in prompts}
    images: list[Image.Image] = []
    groups: list[str] = []
    for it in load_catalog(data):
        if not ("__base" in it.file_name or "__jitter" in it.file_name):
            continue
        hit = kinds & {without_colour(c) for c in it.captions}
        if hit:
            images.append(load_image(it, size))
            groups.append(it.concept or sorted(hit)[0])
    if not images:
        return float("nan")
    out = compute("seed_diversity", lite2_encode(_uint8(images)).features, groups)
    return out.get("seed_diversity", float("nan"))
