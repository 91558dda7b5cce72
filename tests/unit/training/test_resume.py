"""Exact resume: 2 steps + resume to 4 equals 4 steps straight; state is safetensors only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, train
from shared.training.state import flatten_optimizer, unflatten_optimizer

from .helpers import fake_embed, synthetic_catalog

CFG = {"image_size": 16, "z_dim": 8, "ngf": 4, "ndf": 4, "cond_hidden": 8}


def _opts(data: Path, out: Path, steps: int, resume: bool = False) -> TrainOptions:
    return TrainOptions(
        data=data,
        out=out,
        cfg=GANConfig(**CFG),
        steps=steps,
        batch_size=4,
        seed=3,
        device="cpu",
        precision="fp32",
        resume=resume,
        gp_every=2,
        log_every=1,
        sample_every=100,
        checkpoint_every=100,
        n_prompts=2,
    )


def test_resume_is_exact(tmp_path: Path) -> None:
    synthetic_catalog(tmp_path / "cat")
    straight = train(_opts(tmp_path / "cat", tmp_path / "a", 4), embed=fake_embed)
    train(_opts(tmp_path / "cat", tmp_path / "b", 2), embed=fake_embed)
    with pytest.raises(FileExistsError):
        train(_opts(tmp_path / "cat", tmp_path / "b", 4), embed=fake_embed)
    resumed = train(_opts(tmp_path / "cat", tmp_path / "b", 4, resume=True), embed=fake_embed)
    assert straight.steps == resumed.steps == 4
    a = load_file(str(tmp_path / "a" / "state.safetensors"))
    b = load_file(str(tmp_path / "b" / "state.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "log.jsonl").open()]
    assert steps == [1, 2, 3, 4]
    for name in ("options.json", "config.json", "samples.png", "loss.png", "model/meta.json"):
        assert (tmp_path / "b" / name).exists(), name


def test_optimizer_state_flattens_to_tensors() -> None:
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.0, 0.9))
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, str] = {}
    flatten_optimizer("opt", opt, tensors, meta)
    assert tensors and all(isinstance(v, torch.Tensor) for v in tensors.values())
    fresh = torch.optim.Adam(model.parameters(), lr=5.0)
    fresh.load_state_dict(unflatten_optimizer("opt", tensors, meta))
    assert fresh.param_groups[0]["lr"] == 1e-3
    for k, v in opt.state_dict()["state"][0].items():
        torch.testing.assert_close(fresh.state_dict()["state"][0][k], v)


def test_init_from_starts_a_new_run_from_an_exported_model(tmp_path: Path) -> None:
    """--init-from: G, its EMA copy and D start as the exported model; the lineage is recorded."""
    from shared.gan.checkpoint import load_model
    from shared.gan.discriminator import Discriminator
    from shared.gan.generator import Generator
    from shared.training.loop import _warm_start

    synthetic_catalog(tmp_path / "cat")
    train(_opts(tmp_path / "cat", tmp_path / "base", 2), embed=fake_embed)
    base = load_model(tmp_path / "base" / "model")
    cfg = GANConfig(**{**CFG, "ngf": 2})  # a different width asked for: the model's wins
    gen, disc, ema = Generator(base.config), Discriminator(base.config), Generator(base.config)
    _warm_start(tmp_path / "base" / "model", gen, disc, ema)
    for mine, theirs in ((gen, base.generator), (ema, base.generator), (disc, base.discriminator)):
        for (k, a), b in zip(mine.state_dict().items(), theirs.state_dict().values(), strict=True):
            assert torch.equal(a, b), k

    opts = _opts(tmp_path / "cat", tmp_path / "warm", 3)
    opts.cfg, opts.init_from = cfg, tmp_path / "base" / "model"
    result = train(opts, embed=fake_embed)
    warm = load_model(result.model_dir)
    assert warm.config.ngf == CFG["ngf"]
    assert warm.meta["init_steps"] == 2 and warm.meta["total_steps"] == 5
    assert warm.meta["init_version"] == base.version
    moved = [
        not torch.equal(a, b)
        for a, b in zip(
            warm.generator.state_dict().values(), base.generator.state_dict().values(), strict=True
        )
    ]
    assert any(moved)  # it trained on from there
