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


WHITE_LEVEL = 0.88  # a pixel whose darkest channel is above this is ground, not product


def mean_chroma(images: torch.Tensor) -> torch.Tensor:
    """[B, 3]: mean chroma (each pixel minus its grey, in [0, 1] units) over the pixels that
    are not white ground; the mask carries no gradient, the chroma does."""
    x = (images.float() + 1.0) * 0.5
    chroma = x - x.mean(dim=1, keepdim=True)
    product = (x.amin(dim=1, keepdim=True) < WHITE_LEVEL).float().detach()
    return (chroma * product).sum(dim=(2, 3)) / (product.sum(dim=(2, 3)) + 1.0)


def colour_match_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared distance between the mean chroma of each fake and of the real training picture
    of its caption (``GANConfig.colour_loss``): "purple handbag" is pulled to purple directly,
    a plain caption to the product's own colours.  A train-split statistic of the pair, never
    the evaluator that grades colour and kind."""
    return (mean_chroma(fake) - mean_chroma(real)).square().sum(dim=1).mean()


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
