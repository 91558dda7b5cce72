"""Projected discriminator (Sauer et al., NeurIPS 2021) and the hybrid of it with today's D.

A frozen ImageNet EfficientNet-Lite0 reads the (augmented, upsampled) image; its block outputs
2/4/10/15 (24/40/112/320 channels at 1/4 ... 1/32 of the input) are mixed by *frozen random*
1x1 convs across channels and 3x3 convs across scales (a top-down feature pyramid), which
spreads every feature over all heads so no head can ignore a part of the network.  Small trained
heads then judge each scale: an optional unconditional logit plus a projection of the sentence
(Miyato & Koyama 2018: image embedding . learned projection of the text).  Only the heads train;
the frozen parts are buffers or live outside the module, so ``requires_grad_`` on the module never
unfreezes them and checkpoints hold only what was learnt plus the random mixing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from shared.gan.config import GANConfig
from shared.gan.discriminator import Discriminator
from shared.gan.pretrained import LITE0, lite_taps, load_lite


class FrozenConv(nn.Module):
    """A conv with random, fixed weights kept as buffers (saved, never trained)."""

    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        w = torch.empty(c_out, c_in, k, k)
        nn.init.kaiming_normal_(w, nonlinearity="linear")
        self.weight: torch.Tensor
        self.register_buffer("weight", w)
        self.pad = k // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight.to(x.dtype), padding=self.pad)


class ScaleHead(nn.Module):
    """Strided convs down to 4x4, then an unconditional logit and a sentence projection."""

    def __init__(self, c_in: int, width: int, size: int, text_dim: int, uncond: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            spectral_norm(nn.Conv2d(c_in, width, 3, 1, 1)),
            nn.LeakyReLU(0.2),
        ]
        while size > 4:
            layers += [spectral_norm(nn.Conv2d(width, width, 4, 2, 1)), nn.LeakyReLU(0.2)]
            size //= 2
        self.body = nn.Sequential(*layers)
        self.uncond = spectral_norm(nn.Conv2d(width, 1, 1)) if uncond else None
        self.embed = nn.Linear(text_dim, width)
        self.width = width

    def forward(self, x: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        pooled = h.mean(dim=(2, 3))
        logit = (pooled * self.embed(text).to(pooled.dtype)).sum(1) / math.sqrt(self.width)
        if self.uncond is not None:
            logit = logit + self.uncond(h).mean(dim=(1, 2, 3))
        return logit


class ProjectedDiscriminator(nn.Module):
    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        net = load_lite(LITE0)
        self.__dict__["_net"] = net  # not a submodule: frozen, never saved, never trained
        with torch.no_grad():  # one tiny forward tells the taps' widths and sizes
            probe = lite_taps(
                net, torch.zeros(1, 3, cfg.proj_size, cfg.proj_size), tuple(cfg.proj_taps)
            )
        chans, sizes = [t.shape[1] for t in probe], [t.shape[-1] for t in probe]
        self.ccm = nn.ModuleList(FrozenConv(c, cfg.proj_mix, 1) for c in chans)
        self.csm = nn.ModuleList(FrozenConv(cfg.proj_mix, cfg.proj_mix, 3) for _ in chans)
        self.heads = nn.ModuleList(
            ScaleHead(cfg.proj_mix, cfg.proj_head, s, cfg.text_dim, cfg.proj_uncond) for s in sizes
        )

    def _feature_net(self, like: torch.Tensor) -> nn.Module:
        net: nn.Module = self.__dict__["_net"]
        if next(net.parameters()).device != like.device:
            net.to(like.device)
        return net

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Frozen part: Lite0 taps mixed across channels and scales.  No trainable parameter
        is used, so the D step runs it under no_grad; gradients still flow to the images."""
        x = F.interpolate(
            images, size=(self.cfg.proj_size,) * 2, mode="bilinear", align_corners=False
        )
        taps = lite_taps(self._feature_net(x), x, tuple(self.cfg.proj_taps))
        mixed = [ccm(t) for ccm, t in zip(self.ccm, taps, strict=True)]
        for i in range(len(mixed) - 2, -1, -1):  # top-down: coarse semantics into fine maps
            mixed[i] = mixed[i] + F.interpolate(
                mixed[i + 1], size=mixed[i].shape[-2:], mode="bilinear", align_corners=False
            )
        return [csm(m) for csm, m in zip(self.csm, mixed, strict=True)]

    def logits(self, feats: list[torch.Tensor], text_emb: torch.Tensor) -> torch.Tensor:
        """[N, scales] logits; losses average over scales (one hinge per scale)."""
        text = text_emb * self.cfg.text_scale
        return torch.stack([head(f, text) for head, f in zip(self.heads, feats, strict=True)], 1)

    def forward(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(images), text_emb)

    @torch.no_grad()
    def score(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        return self.forward(images, text_emb).float().mean(1)


class HybridDiscriminator(nn.Module):
    """Today's matching-aware D (it learns text -> shape) beside a projected realism branch."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.ma = Discriminator(cfg)
        self.proj = ProjectedDiscriminator(cfg)

    @torch.no_grad()
    def score(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """The matching-aware branch's logit: the one that reads text and shape together."""
        return self.ma.score(images, text_emb)


AnyDiscriminator = Discriminator | ProjectedDiscriminator | HybridDiscriminator


def build_discriminator(cfg: GANConfig) -> AnyDiscriminator:
    if cfg.d_arch == "projected":
        return ProjectedDiscriminator(cfg)
    if cfg.d_arch == "hybrid":
        return HybridDiscriminator(cfg)
    return Discriminator(cfg)
