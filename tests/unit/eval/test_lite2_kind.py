"""The colour-blind kind judge: right shapes in any colour score high, swapped shapes low."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.catalog.format import CatalogItem, write_metadata
from shared.eval.lite2_kind import lite2_kind_scores, rank_scores

from .conftest import COLOURS, SHAPES, SIZE, draw_shape


def test_rank_scores_on_known_features() -> None:
    centroids = np.eye(3)
    feats = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8], [0.6, 0.5, 0.0]])
    assert rank_scores(feats, np.array([0, 2, 1]), centroids) == (2 / 3, 1.0)


def _catalog(root: Path) -> None:
    rng = np.random.default_rng(2)
    (root / "images").mkdir(parents=True)
    items = []
    for shape in SHAPES:
        for k, colour in enumerate(("red", "green")):
            name = f"images/{shape}__{k}.png"
            draw_shape(shape, COLOURS[colour], rng, SIZE).save(root / name)
            items.append(CatalogItem(name, [shape, f"{colour} {shape}"], "toys", "train", shape))
    write_metadata(root, items)


def test_judges_the_shape_whatever_the_colour(tmp_path: Path) -> None:
    _catalog(tmp_path)
    rng = np.random.default_rng(7)
    prompts = [f"blue {s}" for s in SHAPES]  # a colour no catalog picture has
    cells = [p for p in prompts for _ in range(3)]
    right = [draw_shape(c.split()[1], COLOURS["blue"], rng, SIZE) for c in cells]
    swapped = [
        draw_shape(SHAPES[(SHAPES.index(c.split()[1]) + 1) % len(SHAPES)], COLOURS["blue"], rng)
        for c in cells
    ]
    good = lite2_kind_scores(right, cells, prompts, tmp_path, size=SIZE)
    bad = lite2_kind_scores(swapped, cells, prompts, tmp_path, size=SIZE)
    assert good["lite2_kind_candidates"] == len(SHAPES)
    assert good["lite2_kind_top1"] >= 0.75, good  # chance 1/4
    assert bad["lite2_kind_top1"] <= 0.25, bad
    assert 0.0 <= good["real_lite2_kind_top1"] <= 1.0


def test_products_without_a_picture_are_left_out(tmp_path: Path) -> None:
    _catalog(tmp_path)
    prompts = [f"blue {s}" for s in SHAPES] + ["blue teapot"]
    images = [draw_shape(s, COLOURS["blue"], np.random.default_rng(0), SIZE) for s in SHAPES]
    cells = [f"blue {s}" for s in SHAPES]
    out = lite2_kind_scores(images + images[:1], cells + ["blue teapot"], prompts, tmp_path, SIZE)
    assert out["lite2_kind_candidates"] == len(SHAPES)
