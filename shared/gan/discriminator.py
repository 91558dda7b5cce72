"""DF-GAN-style discriminator: residual downsampling to 4x4 features + a text-matching head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shared.gan.config import GANConfig


class DownBlock(nn.Module):
    """Residual x1/2: strided 4x4 conv + 3x3 conv, added to a pooled shortcut via a learnt gain."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.res = nn.Sequential(
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.LeakyReLU(0.2),
        )
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.gain = nn.Parameter(torch.zeros(1))  # start as the shortcut alone: stable early steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.skip(x), 2) + self.gain * self.res(x)


class Discriminator(nn.Module):
    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.d_channels()
        self.from_rgb = nn.Conv2d(3, ch[0], 3, 1, 1)
        pairs = zip(ch[:-1], ch[1:], strict=True)
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in pairs))
        hidden = max(ch[-1] // 2, 64)
        self.head = nn.Sequential(  # judges (4x4 image features, sentence) pairs
            nn.Conv2d(ch[-1] + cfg.text_dim, hidden, 3, 1, 1, bias=False),
            nn.LeakyReLU(0.2),
            nn.Conv2d(hidden, 1, 4, 1, 0, bias=False),
        )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """[N, C, 4, 4] image features, independent of the text."""
        return self.blocks(self.from_rgb(images))

    def logits(self, feats: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """[N] realism-and-match logit for precomputed features and sentence embeddings."""
        text = (text_emb * self.cfg.text_scale)[:, :, None, None]
        text = text.expand(-1, -1, feats.shape[2], feats.shape[3])
        return self.head(torch.cat([feats, text.to(feats.dtype)], dim=1)).flatten()

    def forward(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(images), text_emb)

    @torch.no_grad()
    def score(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """Per-image logit that (image, text) is a real, matching pair; higher is better."""
        return self.forward(images, text_emb).float()
