"""Retrieve + recolour: the nearest catalog product, hue-rotated to the asked colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import PALETTE, with_colour
from shared.eval.baseline import RetrieveRecolour
from shared.training.export import product_colour

from ..training.helpers import SHAPES, synthetic_catalog

VOCAB = sorted({w for caption in SHAPES for w in caption.split()} | set(PALETTE))


def _bag_of_words(texts: list[str]) -> torch.Tensor:
    """A transparent stand-in encoder: one dimension per word, so retrieval is exact."""
    rows = torch.zeros(len(texts), len(VOCAB))
    for i, t in enumerate(texts):
        for w in t.split():
            rows[i, VOCAB.index(w)] += 1.0
    return torch.nn.functional.normalize(rows, dim=1)


def test_retrieves_the_product_and_rotates_it_to_the_asked_colour(tmp_path: Path) -> None:
    synthetic_catalog(tmp_path / "cat", size=32)
    base = RetrieveRecolour.build(tmp_path / "cat", _bag_of_words, size=32, split=None)
    prompts = [with_colour("circle", "green"), with_colour("square", "blue"), "circle"]
    z = torch.randn(len(prompts), 8)
    images = base(z, _bag_of_words(prompts))
    assert images.shape == (3, 3, 32, 32) and images.min() >= -1 and images.max() <= 1
    pil = [
        Image.fromarray(((im.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.uint8))
        for im in images
    ]
    assert [product_colour(p) for p in pil[:2]] == ["green", "blue"]
    assert product_colour(pil[2]) == "blue"  # no colour asked: the catalog's own blue circle
    circle = np.asarray(pil[0]).min(axis=2) < 200
    assert circle[16, 16] and not circle[4, 4]  # a disc: centre filled, corner empty
