"""Kind accuracy: which product is it, with the colour word the same in every candidate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from shared.catalog.format import CatalogItem, write_metadata
from shared.eval.metrics import kind_accuracy_metric
from shared.eval.model import load_evaluator
from shared.generation import GeneratorRuntime
from shared.training.export import (
    kind_candidates_for,
    kind_scores,
    real_kind_ceiling,
    real_new_colour_ceiling,
    real_recoloured_ceiling,
)
from shared.training.kind_check import judge_check, measure

from .conftest import COLOURS, SHAPES, SIZE, HashEncoder, draw_shape


def test_metric_ranks_the_true_candidate() -> None:
    cands = F.normalize(torch.eye(4)[None].repeat(3, 1, 1), dim=2)  # 3 images x 4 candidates
    images = torch.eye(4)[[2, 0, 1]]  # image 0 looks like candidate 2, image 1 like 0, ...
    hit = kind_accuracy_metric(images, cands, np.array([2, 0, 3]))
    assert hit["kind_top1"] == pytest.approx(2 / 3) and hit["kind_candidates"] == 4
    assert hit["kind_top5"] == 1.0  # only 4 candidates: every rank is in the top 5


def test_candidates_keep_the_prompts_colour() -> None:
    rows = kind_candidates_for(["yellow bar", "circle", "red square"])
    assert rows[0] == ["yellow bar", "yellow circle", "yellow square"]
    assert rows[1] == ["bar", "circle", "square"]
    assert rows[2] == ["red bar", "red circle", "red square"]


def _cells(swap: bool) -> tuple[list, list[str], list[str]]:
    rng = np.random.default_rng(5)
    prompts = [f"{c} {s}" for c in ("red", "blue") for s in SHAPES]
    cells, images = [], []
    for p in prompts:
        colour, shape = p.split()
        drawn = SHAPES[(SHAPES.index(shape) + 1) % len(SHAPES)] if swap else shape
        for _ in range(3):
            cells.append(p)
            images.append(draw_shape(drawn, COLOURS[colour], rng, SIZE))
    return images, cells, prompts


def test_right_shapes_score_high_and_wrong_shapes_low(
    tiny_evaluator: tuple[Path, dict[str, float]], hash_encoder: HashEncoder
) -> None:
    """Right colour, wrong kind must not pass: colour is the same in every candidate."""
    evaluator = load_evaluator(tiny_evaluator[0])
    right = kind_scores(*_cells(swap=False), hash_encoder.encode, evaluator)
    wrong = kind_scores(*_cells(swap=True), hash_encoder.encode, evaluator)
    assert right["kind_candidates"] == 8  # the 8 prompts of the grid
    assert right["kind_top1"] >= 0.5  # chance 1/8; measured 0.67
    assert wrong["kind_top1"] <= 0.25  # measured 0.125


def test_real_ceiling_reads_real_pictures_of_the_grids_products(
    tiny_evaluator: tuple[Path, dict[str, float]], hash_encoder: HashEncoder, tmp_path: Path
) -> None:
    rng = np.random.default_rng(9)
    (tmp_path / "images").mkdir()
    items = []
    for shape in SHAPES:  # plain captions, as the catalog's base renders have
        for k, colour in enumerate(("red", "blue", "green")):
            name = f"images/{shape}{k}.png"
            draw_shape(shape, COLOURS[colour], rng, SIZE).save(tmp_path / name)
            items.append(CatalogItem(name, [shape], "toys", "train", shape))
    write_metadata(tmp_path, items)
    prompts = [f"purple {s}" for s in SHAPES]  # colours never drawn: the ceiling drops them
    real = real_kind_ceiling(
        tmp_path, prompts, hash_encoder.encode, load_evaluator(tiny_evaluator[0]), per_prompt=2
    )
    assert real["kind_candidates"] == len(SHAPES)
    assert real["kind_top1"] >= 0.5  # chance 1/4


def test_recoloured_ceiling_judges_each_product_in_a_colour_it_was_rendered_in(
    tiny_evaluator: tuple[Path, dict[str, float]], hash_encoder: HashEncoder, tmp_path: Path
) -> None:
    rng = np.random.default_rng(9)
    (tmp_path / "images").mkdir()
    items = []
    for shape in SHAPES:
        for k, colour in enumerate(("red", "blue", "green")):
            name = f"images/{shape}{k}.png"
            draw_shape(shape, COLOURS[colour], rng, SIZE).save(tmp_path / name)
            items.append(CatalogItem(name, [f"{colour} {shape}"], "toys", "train", shape))
    grey = "images/grey_bar.png"  # a product never rendered in a palette colour: left out
    draw_shape("bar", (128, 128, 128), rng, SIZE).save(tmp_path / grey)
    items.append(CatalogItem(grey, ["grey bar"], "toys", "train", "grey bar"))
    write_metadata(tmp_path, items)
    prompts = [f"purple {s}" for s in SHAPES] + ["purple grey bar"]
    evaluator = load_evaluator(tiny_evaluator[0])
    real = real_recoloured_ceiling(tmp_path, prompts, hash_encoder.encode, evaluator)
    # One colour per product, the first by file name ("blue"), both of its pictures... here one.
    assert real["kind_candidates"] == len(SHAPES) and real["pictures"] == len(SHAPES)
    assert real["colour_match"] == 1.0  # flat shapes in a palette colour read as it
    assert real["kind_top1"] >= 0.5  # chance 1/4
    none = real_recoloured_ceiling(tmp_path, ["purple grey bar"], hash_encoder.encode, evaluator)
    assert none == {}


def test_new_colour_ceiling_recolours_real_base_renders_into_the_asked_colour(
    tiny_evaluator: tuple[Path, dict[str, float]], hash_encoder: HashEncoder, tmp_path: Path
) -> None:
    rng = np.random.default_rng(9)
    (tmp_path / "images").mkdir()
    items = []
    for shape in SHAPES:  # one red base render and one red jittered copy per product
        for variant in ("base", "jitter"):
            name = f"images/{shape}__flat__{variant}.png"
            draw_shape(shape, COLOURS["red"], rng, SIZE).save(tmp_path / name)
            items.append(CatalogItem(name, [f"red {shape}", shape], "toys", "train", shape))
    grey = "images/grey bar__flat__base.png"  # no hue to rotate: no picture in a new colour
    draw_shape("bar", (128, 128, 128), rng, SIZE).save(tmp_path / grey)
    items.append(CatalogItem(grey, ["grey bar"], "toys", "train", "grey bar"))
    write_metadata(tmp_path, items)
    prompts = [f"blue {s}" for s in SHAPES] + ["blue grey bar", "circle"]
    evaluator = load_evaluator(tiny_evaluator[0])
    real = real_new_colour_ceiling(tmp_path, prompts, hash_encoder.encode, evaluator)
    # Base renders only (not the jittered copies), re-coloured blue; the grey bar and the prompt
    # without a colour word have none, but stay among the candidates as for a model's cells.
    assert real["pictures"] == len(SHAPES)
    assert real["prompts"] == sorted(f"blue {s}" for s in SHAPES)
    assert real["kind_candidates"] == len(prompts)
    assert real["colour_match"] == 1.0  # flat shapes hue-rotated into blue read as blue
    assert 0.0 <= real["kind_top1"] <= real["kind_top5"] <= 1.0
    assert (
        real_new_colour_ceiling(
            tmp_path, ["blue grey bar", "circle"], hash_encoder.encode, evaluator
        )
        == {}
    )


def test_kind_check_measures_both_prompt_sets(
    tiny_evaluator: tuple[Path, dict[str, float]],
    hash_encoder: HashEncoder,
    shapes_catalog: Path,
    runtime: GeneratorRuntime,
) -> None:
    out = measure(
        runtime.model_dir,
        shapes_catalog,
        hash_encoder.encode,
        load_evaluator(tiny_evaluator[0]),
        prompts=6,
        seeds=2,
    )
    held = out["held_out"]
    assert out["version"] == runtime.version and held["prompts"] == 6
    assert held["kind_candidates"] == 6 and 0.0 <= held["kind_top1"] <= held["kind_top5"] <= 1.0
    assert held["colour_prompts"] == 12  # every shapes caption names a colour; 2 seeds each


def test_judge_check_reads_real_pictures_per_split_and_variant(
    tiny_evaluator: tuple[Path, dict[str, float]], hash_encoder: HashEncoder, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    (tmp_path / "images").mkdir()
    items = []
    for split in ("train", "val", "test"):
        for shape in SHAPES:
            concept = f"{split} {shape}"  # each split its own products, as in the catalog
            for variant, colour in (("base", "red"), ("blue", "blue")):
                name = f"images/{split}_{shape}__{variant}.png"
                draw_shape(shape, COLOURS[colour], rng, SIZE).save(tmp_path / name)
                caption = concept if variant == "base" else f"blue {concept}"
                items.append(CatalogItem(name, [caption], "toys", split, concept))
    write_metadata(tmp_path, items)
    rows = judge_check(tmp_path, hash_encoder.encode, load_evaluator(tiny_evaluator[0]))
    assert [(r["split"], r["variant"]) for r in rows] == [
        (s, v) for s in ("train", "val", "test") for v in ("own colour", "recoloured")
    ]
    assert all(r["kind_candidates"] == len(SHAPES) for r in rows)
    assert all(0.0 <= r["kind_top1"] <= r["kind_top5"] <= 1.0 for r in rows)
