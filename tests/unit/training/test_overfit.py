"""A measured property of the whole loop: after a short run on four captioned shapes, samples
for each caption are closer (pixel MSE) to that caption's image than to any other image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.gan.checkpoint import load_model
from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, train

from .helpers import fake_embed, synthetic_catalog


@pytest.mark.parametrize("g_arch", ["dfgan", "exemplar"])
def test_short_run_learns_caption_to_image(tmp_path: Path, g_arch: str) -> None:
    pixels = synthetic_catalog(tmp_path / "cat", size=16)
    cfg = GANConfig(
        g_arch=g_arch,
        exemplar_size=8,
        image_size=16,
        z_dim=8,
        ngf=8,
        ndf=8,
        cond_hidden=32,
        diffaugment="",
        lr_g=3e-4,
        lr_d=3e-4,
        ema_beta=0.98,
    )
    opts = TrainOptions(
        data=tmp_path / "cat",
        out=tmp_path / "run",
        cfg=cfg,
        steps=STEPS,
        batch_size=16,
        device="cpu",
        precision="fp32",
        threads=1,
        sample_every=10_000,
        checkpoint_every=10_000,
        gp_every=4,
    )
    result = train(opts, embed=fake_embed)
    bundle = load_model(result.model_dir)
    captions = list(pixels)
    z = torch.randn(8 * len(captions), cfg.z_dim, generator=torch.Generator().manual_seed(9))
    text = fake_embed(captions).repeat_interleave(8, dim=0)
    with torch.no_grad():
        out = (
            bundle.generator(z, text)
            .permute(0, 2, 3, 1)
            .numpy()
            .reshape(len(captions), 8, 16, 16, 3)
        )
    targets = np.stack([pixels[c] for c in captions])
    # mse[i, j]: samples for caption i against the image of caption j
    mse = ((out[:, :, None] - targets[None, None]) ** 2).mean(axis=(1, 3, 4, 5))
    own = np.diag(mse)
    others = np.where(np.eye(len(captions), dtype=bool), np.inf, mse).min(axis=1)
    print("own", own, "nearest other", others)
    assert np.all(own < others), f"own {own} vs nearest other {others}"
    assert own.mean() < 0.5 * others.mean()


STEPS = 250  # ~25 s of CPU time uncontended
