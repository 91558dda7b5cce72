"""Export: a run becomes a small model directory with grids for never-seen prompts."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from shared.catalog.format import CatalogItem, load_catalog, write_metadata
from shared.gan.checkpoint import load_model
from shared.gan.config import GANConfig
from shared.training.data import colour_of
from shared.training.export import export_model, unseen_colour_prompts
from shared.training.loop import TrainOptions, train

from .helpers import fake_embed, shape_image

CFG = {"image_size": 16, "z_dim": 8, "ngf": 4, "ndf": 4, "cond_hidden": 8}


def _catalog(root: Path) -> None:
    (root / "images").mkdir(parents=True)
    rows = [
        ("square", ["square", "red square"], (220, 30, 30), "square", "train"),
        ("circle", ["circle"], (30, 60, 220), "circle", "train"),
        ("bar", ["yellow bar"], (235, 200, 20), "bar", "test"),
    ]
    items = []
    for concept, captions, colour, kind, split in rows:
        name = f"images/{concept}.png"
        shape_image(colour, kind, 16).save(root / name)
        items.append(CatalogItem(name, captions, "toys", split, concept, "user"))
    write_metadata(root, items)


def test_unseen_colour_prompts_pair_learnt_products_with_new_colours(tmp_path: Path) -> None:
    _catalog(tmp_path)
    prompts = unseen_colour_prompts(tmp_path, 10, seed=0)
    seen = {c for it in load_catalog(tmp_path) for c in it.captions}
    assert len(prompts) == 2  # one per train concept with a plain caption; none for "bar"
    assert not set(prompts) & seen
    by_kind = {p.split(" ", 1)[1]: colour_of(p) for p in prompts}
    assert set(by_kind) == {"square", "circle"} and by_kind["square"] != "red"


def test_export_writes_the_model_and_both_grids(tmp_path: Path) -> None:
    _catalog(tmp_path / "cat")
    opts = TrainOptions(
        data=tmp_path / "cat",
        out=tmp_path / "run",
        cfg=GANConfig(**CFG),
        steps=2,
        batch_size=2,
        device="cpu",
        precision="fp32",
        n_prompts=2,
        sample_every=100,
        checkpoint_every=100,
    )
    train(opts, embed=fake_embed)
    report = export_model(
        tmp_path / "run", tmp_path / "model", tmp_path / "cat", fake_embed, n_prompts=4
    )
    model = load_model(tmp_path / "model")
    assert model.version == report.version and model.discriminator is not None
    assert json.loads((tmp_path / "model" / "meta.json").read_text())["trained_steps"] == 2
    assert report.held_out.prompts == ["yellow bar"]  # the test split
    assert len(report.unseen_colours.prompts) == 2
    assert report.shade_words["samples"] == 3 * 2 * len(report.unseen_colours.prompts)
    for name, rows in (
        ("samples.png", 1),
        ("samples_unseen_colours.png", 1),
        ("samples_shades.png", 3),
    ):
        with Image.open(tmp_path / "model" / name) as im:
            assert im.width > 100 and im.height > 16 * rows, name
