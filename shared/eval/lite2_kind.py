"""A second kind judge that neither reads colour nor was trained on our catalog.

The AdGen evaluator's kind accuracy (``export.kind_scores``) is the issue's yardstick, but it
remembers its training pictures and reads colour: on real catalog pictures it scores 0.85 for
train-split products in their own colours, 0.62 recoloured, and 0.05-0.14 for val/test
products (``adgen eval kinds judge``).  So a re-coloured product scores low even when anyone
would name it.  This judge asks the same question ("which of the grid's products is it?") with
EfficientNet-Lite2's ImageNet features (a network no generator here trains against) on
greyscale pictures, against each product's centroid of real catalog pictures (every split, no
pale-background variants): colour-blind by construction, and not fitted to our data.

What it cannot tell apart is a product and a copy of its catalog picture: read it beside seed
diversity and the nearest-train distance, which the same reports carry.
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


def grey_features(images: list[Image.Image]) -> np.ndarray:
    """[N, 1280] unit-norm Lite2 pooled features of the pictures in greyscale."""
    arr = np.stack([np.asarray(im.convert("L").convert("RGB")) for im in images])
    feats = lite2_encode(torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()).features
    return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)


def rank_scores(feats: np.ndarray, truth: np.ndarray, centroids: np.ndarray) -> tuple[float, float]:
    """Top-1 / top-5 hit rates of ``truth`` (row index into ``centroids``) by cosine."""
    order = np.argsort(-(feats @ centroids.T), axis=1)
    top1 = float((order[:, 0] == truth).mean())
    top5 = float((order[:, :5] == truth[:, None]).any(axis=1).mean())
    return top1, top5


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@lru_cache(maxsize=4)
def _references(data: Path, kinds: tuple[str, ...], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grey Lite2 features of the catalog's pictures of ``kinds`` and each one's kind index
    (cached: a learning curve asks for the same products at every snapshot)."""
    index = {k: i for i, k in enumerate(kinds)}
    images, owner = [], []
    for it in load_catalog(data):
        if "__background" in it.file_name:
            continue
        hit = sorted({without_colour(c) for c in it.captions} & index.keys())
        if hit:
            images.append(load_image(it, size))
            owner.append(index[hit[0]])
    if not images:
        return np.zeros((0, 1280), np.float32), np.zeros(0, np.int64)
    return grey_features(images), np.asarray(owner)


def lite2_kind_scores(
    images: list[Image.Image], cells: list[str], prompts: list[str], data: Path, size: int = 64
) -> dict[str, float]:
    """Colour-blind kind accuracy of grid cells (``cells[i]`` is one of ``prompts``) among the
    prompts' products, and the same judge on the real pictures themselves, each left out of
    its own product's centroid (``real_lite2_kind_top1``).  Products without a catalog picture
    are dropped from the candidates and their cells from the score."""
    kinds = tuple(dict.fromkeys(without_colour(p) for p in prompts))
    refs, owner = _references(Path(data), kinds, size)
    present = sorted(set(owner.tolist()))
    if len(present) < 2:
        return {}
    sums = np.stack([refs[owner == k].sum(axis=0) for k in present])
    counts = np.asarray([(owner == k).sum() for k in present], np.float64)
    column = {k: j for j, k in enumerate(present)}
    keep = [i for i, c in enumerate(cells) if kinds.index(without_colour(c)) in column]
    truth = np.asarray([column[kinds.index(without_colour(cells[i]))] for i in keep])
    feats = grey_features([images[i] for i in keep])
    top1, top5 = rank_scores(feats, truth, _unit(sums / counts[:, None]))
    # Real ceiling: each picture against centroids without itself (products with one picture
    # cannot be judged that way and are skipped).
    hits = []
    for f, k in zip(refs, owner, strict=True):
        j = column[int(k)]
        if counts[j] < 2:
            continue
        centroids = sums.copy()
        centroids[j] -= f
        hits.append(int(np.argmax(_unit(centroids) @ f) == j))
    real = float(np.mean(hits)) if hits else float("nan")
    return {
        "lite2_kind_top1": top1,
        "lite2_kind_top5": top5,
        "lite2_kind_candidates": float(len(present)),
        "real_lite2_kind_top1": real,
    }
