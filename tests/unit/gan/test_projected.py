"""Projected and hybrid discriminators: frozen parts stay frozen, gradients reach G, the designs
load by config (old configs too), and a tiny seeded run of the hybrid learns four shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.gan.checkpoint import load_model, save_model
from shared.gan.config import GANConfig
from shared.gan.discriminator import Discriminator
from shared.gan.generator import Generator
from shared.gan.projected import (
    HybridDiscriminator,
    ProjectedDiscriminator,
    build_discriminator,
)
from shared.training.step import Batch, mode_seeking, train_step

# 16 px images read by Lite0 at 64 px: taps at 16/8/4/2 px, fast enough for unit tests.
TINY = {
    "image_size": 16,
    "z_dim": 8,
    "ngf": 4,
    "ndf": 4,
    "cond_hidden": 16,
    "proj_size": 64,
    "proj_mix": 16,
    "proj_head": 16,
}


def _batch(cfg: GANConfig, n: int = 4, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    text = torch.nn.functional.normalize(torch.randn(n, cfg.text_dim, generator=g), dim=1)
    return Batch(
        torch.rand(n, 3, cfg.image_size, cfg.image_size, generator=g) * 2 - 1,
        text,
        text.roll(1, 0),
        torch.randn(n, cfg.z_dim, generator=g),
        1,
    )


def test_projected_gradient_reaches_the_generator_and_only_heads_train() -> None:
    torch.manual_seed(0)
    cfg = GANConfig(d_arch="projected", **TINY)
    gen, disc = Generator(cfg), ProjectedDiscriminator(cfg)
    batch = _batch(cfg)
    disc(gen(batch.z, batch.text), batch.text).mean().backward()
    assert all(p.grad is not None for p in gen.parameters())
    # The first layer (fc) gets a gradient only if it flowed through Lite0 and every G block;
    # (the affine MLPs' first layers start at zero gradient by design: their last layer is 0).
    assert gen.fc.weight.grad.abs().sum() > 0 and gen.to_rgb[1].weight.grad.abs().sum() > 0
    trainable = {n for n, p in disc.named_parameters()}
    assert trainable and all(n.startswith("heads.") for n in trainable)
    frozen = disc.__dict__["_net"]
    assert not frozen.training and all(p.grad is None for p in frozen.parameters())
    disc.train().requires_grad_(True)  # what the loop does: must not unfreeze anything
    assert not frozen.training and not any(p.requires_grad for p in frozen.parameters())


def test_train_step_updates_heads_not_mixing_nor_features() -> None:
    torch.manual_seed(0)
    cfg = GANConfig(d_arch="hybrid", mode_seeking=0.5, **TINY)
    gen, disc = Generator(cfg), HybridDiscriminator(cfg)
    mixing = [b.clone() for b in disc.proj.ccm.buffers()]
    lite = [p.clone() for p in disc.proj.__dict__["_net"].parameters()]
    heads = [p.clone() for p in disc.proj.heads.parameters()]
    opt_g = torch.optim.Adam(gen.parameters(), 1e-3, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), 1e-3, betas=(0.0, 0.9))
    stats = train_step(cfg, gen, disc, opt_g, opt_d, _batch(cfg), torch.Generator(), gp_every=1)
    assert {"d_real", "p_real", "p_wrong", "mode_seeking", "ma_gp"} <= stats.keys()
    assert all(np.isfinite(v) for v in stats.values())
    assert all(torch.equal(a, b) for a, b in zip(mixing, disc.proj.ccm.buffers(), strict=True))
    assert all(
        torch.equal(a, b)
        for a, b in zip(lite, disc.proj.__dict__["_net"].parameters(), strict=True)
    )
    assert any(
        not torch.equal(a, b) for a, b in zip(heads, disc.proj.heads.parameters(), strict=True)
    )


def test_mode_seeking_is_large_for_a_generator_that_ignores_noise() -> None:
    cfg = GANConfig(**TINY)
    batch = _batch(cfg)

    class Constant(torch.nn.Module):
        def forward(self, z: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
            return text[:, :3, None, None].expand(-1, 3, 16, 16) + 0 * z.sum()

    class Noisy(torch.nn.Module):
        def forward(self, z: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
            return z[:, :3, None, None].expand(-1, 3, 16, 16)

    const, noisy = Constant(), Noisy()
    g = torch.Generator().manual_seed(1)
    flat = mode_seeking(const, const(batch.z, batch.text), batch, g)  # type: ignore[arg-type]
    varied = mode_seeking(noisy, noisy(batch.z, batch.text), batch, g)  # type: ignore[arg-type]
    assert flat > 1e4 and varied < 10


@pytest.mark.parametrize("arch", ["projected", "hybrid"])
def test_checkpoint_round_trip_without_the_feature_network(tmp_path: Path, arch: str) -> None:
    torch.manual_seed(0)
    cfg = GANConfig(d_arch=arch, **TINY)
    gen, disc = Generator(cfg).eval(), build_discriminator(cfg).eval()
    save_model(tmp_path, cfg, gen, disc)
    from safetensors.torch import load_file

    keys = load_file(str(tmp_path / "discriminator.safetensors")).keys()
    assert not any("_blocks" in k or "_conv_stem" in k for k in keys)  # Lite0 is not copied
    bundle = load_model(tmp_path)
    assert type(bundle.discriminator) is type(disc)
    batch = _batch(cfg)
    assert torch.allclose(
        bundle.discriminator.score(batch.images, batch.text), disc.score(batch.images, batch.text)
    )


def test_a_config_saved_before_d_arch_existed_loads_as_todays_design(tmp_path: Path) -> None:
    data = json.loads(
        GANConfig(**{k: v for k, v in TINY.items() if not k.startswith("proj")}).to_json()
    )
    for key in [k for k in data if k.startswith("proj") or k in ("d_arch", "mode_seeking")]:
        del data[key]
    (tmp_path / "config.json").write_text(json.dumps(data))
    cfg = GANConfig.load(tmp_path / "config.json")
    assert cfg.d_arch == "dfgan" and isinstance(build_discriminator(cfg), Discriminator)
    with pytest.raises(ValueError, match="d_arch"):
        GANConfig(d_arch="stylegan")


@pytest.mark.slow  # ~60 s of CPU (200 s on the contended 2-core box)
def test_hybrid_overfits_four_shapes(tmp_path: Path) -> None:
    """The new design, seeded and tiny: after a short run the samples for each caption are
    closer (pixel MSE) to that caption's image than to any other."""
    from shared.training.loop import TrainOptions, train
    from tests.unit.training.helpers import fake_embed, synthetic_catalog

    pixels = synthetic_catalog(tmp_path / "cat", size=16)
    cfg = GANConfig(
        d_arch="hybrid",
        image_size=16,
        z_dim=8,
        ngf=8,
        ndf=8,
        cond_hidden=32,
        proj_size=64,
        proj_mix=16,
        proj_head=16,
        diffaugment="",
        lr_g=3e-4,
        lr_d=3e-4,
        ema_beta=0.98,
        proj_uncond=False,
    )
    opts = TrainOptions(
        data=tmp_path / "cat",
        out=tmp_path / "run",
        cfg=cfg,
        steps=150,
        batch_size=16,
        device="cpu",
        precision="fp32",
        threads=1,
        sample_every=10_000,
        checkpoint_every=10_000,
        gp_every=4,
    )
    bundle = load_model(train(opts, embed=fake_embed).model_dir)
    captions = list(pixels)
    z = torch.randn(8 * len(captions), cfg.z_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        out = bundle.generator(z, fake_embed(captions).repeat_interleave(8, dim=0))
    out_np = out.permute(0, 2, 3, 1).numpy().reshape(len(captions), 8, 16, 16, 3)
    targets = np.stack([pixels[c] for c in captions])
    mse = ((out_np[:, :, None] - targets[None, None]) ** 2).mean(axis=(1, 3, 4, 5))
    own = np.diag(mse)
    others = np.where(np.eye(len(captions), dtype=bool), np.inf, mse).min(axis=1)
    assert np.all(own < others), f"own {own} vs nearest other {others}"
