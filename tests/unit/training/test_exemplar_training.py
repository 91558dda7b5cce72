"""The exemplar design through the loop: the bank is built from the run's catalog, resumes with
the run, and is rebuilt from the new catalog when a run starts from an exported model."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from shared.catalog.format import load_catalog, write_metadata
from shared.gan.checkpoint import load_model
from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, train

from .helpers import SHAPES, fake_embed, synthetic_catalog

CFG = {"image_size": 16, "z_dim": 8, "ngf": 4, "ndf": 4, "cond_hidden": 8, "diffaugment": ""}


def _opts(data: Path, out: Path, steps: int, **kw: object) -> TrainOptions:
    cfg = GANConfig(**CFG, g_arch="exemplar", exemplar_size=8)  # type: ignore[arg-type]
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
        checkpoint_every=2,
        **kw,  # type: ignore[arg-type]
    )


def test_bank_follows_the_catalog_through_resume_and_init_from(tmp_path: Path) -> None:
    synthetic_catalog(tmp_path / "a", size=16)
    first = train(_opts(tmp_path / "a", tmp_path / "run", 2), embed=fake_embed)
    model = load_model(first.model_dir)
    assert model.config.exemplar_concepts == len(SHAPES)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["exemplar_rows"] == 32

    resumed = train(_opts(tmp_path / "a", tmp_path / "run", 4, resume=True), embed=fake_embed)
    assert torch.equal(load_model(resumed.model_dir).generator.bank_maps, model.generator.bank_maps)

    # A shop's own, smaller catalog: fine-tuning keeps the weights, takes the new products.
    synthetic_catalog(tmp_path / "b", size=16)
    write_metadata(tmp_path / "b", load_catalog(tmp_path / "b")[:2])
    tuned = train(
        _opts(tmp_path / "b", tmp_path / "tuned", 2, init_from=first.model_dir), embed=fake_embed
    )
    new = load_model(tuned.model_dir)
    assert new.config.exemplar_concepts == 2 and len(new.generator.bank_maps) == 2
