"""One optimisation step of the text-conditional GAN (D update, then G update)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from shared.gan.config import GANConfig
from shared.gan.diffaugment import diff_augment
from shared.gan.discriminator import Discriminator
from shared.gan.generator import Generator
from shared.gan.losses import d_hinge, g_hinge, ma_gp


@dataclass
class Batch:
    images: torch.Tensor     # [B, 3, H, W] in [-1, 1]
    text: torch.Tensor       # [B, 384] matching caption embeddings
    wrong_text: torch.Tensor  # [B, 384] captions that do not describe the image
    z: torch.Tensor          # [B, z_dim]
    step: int = 0


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager[None]:
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def train_step(cfg: GANConfig, gen: Generator, disc: Discriminator, opt_g: torch.optim.Optimizer,
               opt_d: torch.optim.Optimizer, batch: Batch, aug_gen: torch.Generator | None,
               bf16: bool = False, gp_every: int = 1) -> dict[str, float]:
    """D update then G update on one batch.  With ``gp_every`` > 1 the MA-GP is applied lazily
    (every n-th step, weight scaled by n), which keeps its effect and saves its double backward."""
    device = batch.images.device
    with autocast(device, bf16):
        fake = gen(batch.z, batch.text)  # one G forward, reused by both updates
    # --- discriminator: real+text high; fake+text and real+wrong text low; MA-GP on real pairs.
    with autocast(device, bf16):
        real_aug = diff_augment(batch.images, cfg.diffaugment, aug_gen)
        fake_aug = diff_augment(fake.detach().float(), cfg.diffaugment, aug_gen)
        if gp_every > 0 and batch.step % gp_every == 0:
            gp, real_logit, real_feats = ma_gp(disc, real_aug, batch.text,
                                               cfg.ma_gp_k * gp_every, cfg.ma_gp_p)
        else:
            real_feats = disc.features(real_aug)
            real_logit, gp = disc.logits(real_feats, batch.text), torch.zeros((), device=device)
        wrong_logit = disc.logits(real_feats, batch.wrong_text)
        fake_logit = disc(fake_aug, batch.text)
        loss_d = d_hinge(real_logit.float(), fake_logit.float(), wrong_logit.float(),
                         cfg.mismatch_weight)
    opt_d.zero_grad(set_to_none=True)
    (loss_d + gp).backward()
    opt_d.step()
    # --- generator: make D call (fake, text) a real matching pair.
    disc.requires_grad_(False)
    with autocast(device, bf16):
        loss_g = g_hinge(disc(diff_augment(fake.float(), cfg.diffaugment, aug_gen),
                              batch.text).float())
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    disc.requires_grad_(True)
    stats = {"loss_d": loss_d, "loss_g": loss_g, "ma_gp": gp, "d_real": real_logit.mean(),
             "d_fake": fake_logit.mean(), "d_wrong": wrong_logit.mean()}
    return {k: float(v.detach().float()) for k, v in stats.items()}
