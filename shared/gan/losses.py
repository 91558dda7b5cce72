"""Hinge losses and DF-GAN's matching-aware gradient penalty."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.gan.discriminator import Discriminator


def d_hinge(
    real_match: torch.Tensor,
    fake: torch.Tensor,
    real_mismatch: torch.Tensor,
    mismatch_weight: float = 0.5,
) -> torch.Tensor:
    """Real matching pairs above +1; fakes and real images with the wrong text below -1."""
    fake_terms = (1.0 - mismatch_weight) * F.relu(1.0 + fake).mean()
    return (
        F.relu(1.0 - real_match).mean()
        + fake_terms
        + mismatch_weight * F.relu(1.0 + real_mismatch).mean()
    )


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def ma_gp(
    disc: Discriminator, real: torch.Tensor, text_emb: torch.Tensor, k: float = 2.0, p: float = 6.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """k * E[||grad_(x, s) D(x, s)||^p] on real matching pairs: flattens D around the data so
    that both the image and the sentence lie in a smooth region (Tao et al., DF-GAN, 2022).

    Returns (penalty, D's logits on the pairs, D's features of the images) for reuse.
    """
    real = real.detach().requires_grad_(True)
    text = text_emb.detach().requires_grad_(True)
    feats = disc.features(real)
    out = disc.logits(feats, text)
    g_img, g_txt = torch.autograd.grad(out.float().sum(), (real, text), create_graph=True)
    g_txt = g_txt / disc.cfg.text_scale  # gradient w.r.t. the sentence vector D actually sees
    norm = torch.cat([g_img.flatten(1), g_txt.flatten(1)], dim=1).float().norm(2, dim=1)
    return k * norm.pow(p).mean(), out, feats
