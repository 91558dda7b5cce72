"""One optimisation step of the text-conditional GAN (D update, then G update)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from shared.gan.config import GANConfig
from shared.gan.diffaugment import diff_augment
from shared.gan.discriminator import Discriminator
from shared.gan.generator import Generator
from shared.gan.losses import colour_match_loss, colour_word_loss, d_hinge, g_hinge, ma_gp
from shared.gan.projected import AnyDiscriminator, HybridDiscriminator, ProjectedDiscriminator


@dataclass
class Batch:
    images: torch.Tensor  # [B, 3, H, W] in [-1, 1]
    text: torch.Tensor  # [B, 384] matching caption embeddings
    wrong_text: torch.Tensor  # [B, 384] captions that do not describe the image
    z: torch.Tensor  # [B, z_dim]
    step: int = 0
    colour_text: torch.Tensor | None = None  # [B, 384] "<colour> <product>" captions
    colour_targets: torch.Tensor | None = None  # [B, 11] losses.palette_targets rows


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager[None]:
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def train_step(
    cfg: GANConfig,
    gen: Generator,
    disc: AnyDiscriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    batch: Batch,
    aug_gen: torch.Generator | None,
    bf16: bool = False,
    gp_every: int = 1,
    grad_sync: Callable[[nn.Module], None] | None = None,
) -> dict[str, float]:
    """D update then G update on one batch.  With ``gp_every`` > 1 the MA-GP is applied lazily
    (every n-th step, weight scaled by n), which keeps its effect and saves its double backward.
    The matching-aware branch (today's D, or the hybrid's) and the projected branch add up.
    ``grad_sync`` averages a module's gradients across ranks before its optimiser steps."""
    device = batch.images.device
    ma, proj = _branches(disc)
    with autocast(device, bf16):
        fake = gen(batch.z, batch.text)  # one G forward, reused by both updates
    # --- discriminator: real+text high; fake+text and real+wrong text low; MA-GP on real pairs.
    stats: dict[str, torch.Tensor] = {}
    loss_d = gp = torch.zeros((), device=device)
    with autocast(device, bf16):
        real_aug = diff_augment(batch.images, cfg.diffaugment, aug_gen)
        fake_aug = diff_augment(fake.detach().float(), cfg.diffaugment, aug_gen)
        if ma is not None:
            loss_ma, gp = _ma_d_loss(cfg, ma, real_aug, fake_aug, batch, gp_every, stats)
            loss_d = loss_d + loss_ma
        if proj is not None:
            with torch.no_grad():  # the frozen feature network: nothing to train in it
                real_feats, fake_feats = proj.features(real_aug), proj.features(fake_aug)
            real, fake_l = proj.logits(real_feats, batch.text), proj.logits(fake_feats, batch.text)
            wrong = proj.logits(real_feats, batch.wrong_text)
            loss_p = d_hinge(real.float(), fake_l.float(), wrong.float(), cfg.mismatch_weight)
            loss_d = loss_d + _proj_weight(cfg, ma) * loss_p
            stats.update(p_real=real.mean(), p_fake=fake_l.mean(), p_wrong=wrong.mean())
    opt_d.zero_grad(set_to_none=True)
    (loss_d + gp).backward()
    if grad_sync is not None:
        grad_sync(disc)
    opt_d.step()
    # --- generator: make D call (fake, text) a real matching pair (fresh augmentation).
    disc.requires_grad_(False)
    with autocast(device, bf16):
        fake_g = diff_augment(fake.float(), cfg.diffaugment, aug_gen)
        loss_g = torch.zeros((), device=device)
        enclosed = cfg.colour_ground == "enclosed"
        if ma is not None:
            loss_g = loss_g + g_hinge(ma(fake_g, batch.text).float())
        if proj is not None:
            loss_g = loss_g + _proj_weight(cfg, ma) * g_hinge(proj(fake_g, batch.text).float())
        if cfg.colour_loss > 0:
            colour = colour_match_loss(fake, batch.images, enclosed)
            loss_g = loss_g + cfg.colour_loss * colour
            stats["colour"] = colour
        if cfg.colour_word_loss > 0 and batch.colour_text is not None:
            assert batch.colour_targets is not None
            words = colour_word_loss(
                gen(batch.z, batch.colour_text), batch.colour_targets, enclosed
            )
            loss_g = loss_g + cfg.colour_word_loss * words
            stats["colour_words"] = words
        if cfg.mode_seeking > 0:
            ms = mode_seeking(gen, fake, batch, aug_gen)
            loss_g = loss_g + cfg.mode_seeking * ms
            stats["mode_seeking"] = ms
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    if grad_sync is not None:
        grad_sync(gen)
    opt_g.step()
    disc.requires_grad_(True)
    stats.update(loss_d=loss_d, loss_g=loss_g, ma_gp=gp)
    return {k: float(v.detach().float()) for k, v in stats.items()}


def _branches(disc: AnyDiscriminator) -> tuple[Discriminator | None, ProjectedDiscriminator | None]:
    if isinstance(disc, HybridDiscriminator):
        return disc.ma, disc.proj
    if isinstance(disc, ProjectedDiscriminator):
        return None, disc
    return disc, None


def _proj_weight(cfg: GANConfig, ma: Discriminator | None) -> float:
    return cfg.proj_weight if ma is not None else 1.0  # the weight only balances two branches


def _ma_d_loss(
    cfg: GANConfig,
    disc: Discriminator,
    real_aug: torch.Tensor,
    fake_aug: torch.Tensor,
    batch: Batch,
    gp_every: int,
    stats: dict[str, torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    device = real_aug.device
    if gp_every > 0 and batch.step % gp_every == 0:
        gp, real_logit, real_feats = ma_gp(
            disc, real_aug, batch.text, cfg.ma_gp_k * gp_every, cfg.ma_gp_p
        )
    else:
        real_feats = disc.features(real_aug)
        real_logit, gp = disc.logits(real_feats, batch.text), torch.zeros((), device=device)
    wrong_logit = disc.logits(real_feats, batch.wrong_text)
    fake_logit = disc(fake_aug, batch.text)
    stats.update(d_real=real_logit.mean(), d_fake=fake_logit.mean(), d_wrong=wrong_logit.mean())
    loss = d_hinge(real_logit.float(), fake_logit.float(), wrong_logit.float(), cfg.mismatch_weight)
    return loss, gp


def mode_seeking(
    gen: Generator, fake: torch.Tensor, batch: Batch, noise: torch.Generator | None
) -> torch.Tensor:
    """MSGAN (Mao et al. 2019): 1 / (|G(z1, s) - G(z2, s)| / |z1 - z2|) on half the batch, so
    that two seeds of one prompt are pushed apart in proportion to how far their noise is."""
    half = max(fake.shape[0] // 2, 1)
    z2 = torch.randn(batch.z[:half].shape, generator=noise, device=batch.z.device)
    fake2 = gen(z2, batch.text[:half])
    ratio = (fake[:half].float() - fake2.float()).abs().mean() / (batch.z[:half] - z2).abs().mean()
    return 1.0 / (ratio + 1e-5)
