"""DF-GAN-style generator: noise -> 4x4 map -> upsampling blocks fused with the text -> RGB."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shared.gan.config import GANConfig


class Affine(nn.Module):
    """Per-channel scale and shift predicted from the condition (starts as the identity)."""

    def __init__(self, cond_dim: int, channels: int, hidden: int) -> None:
        super().__init__()

        def mlp(bias: float) -> nn.Sequential:
            first, last = nn.Linear(cond_dim, hidden), nn.Linear(hidden, channels)
            nn.init.zeros_(last.weight)
            nn.init.constant_(last.bias, bias)
            return nn.Sequential(first, nn.ReLU(), last)

        self.gamma, self.beta = mlp(1.0), mlp(0.0)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.gamma(cond)[:, :, None, None] * x + self.beta(cond)[:, :, None, None]


class DFBlock(nn.Module):
    """Deep fusion: two stacked affines with LeakyReLU, deepening the text-image fusion."""

    def __init__(self, cond_dim: int, channels: int, hidden: int) -> None:
        super().__init__()
        self.a0 = Affine(cond_dim, channels, hidden)
        self.a1 = Affine(cond_dim, channels, hidden)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.a0(x, cond), 0.2)
        return F.leaky_relu(self.a1(x, cond), 0.2)


class UpBlock(nn.Module):
    """x2 upsample; residual fuse -> conv -> fuse -> conv; 1x1 shortcut when widths differ."""

    def __init__(self, cond_dim: int, c_in: int, c_out: int, hidden: int) -> None:
        super().__init__()
        self.fuse0, self.conv0 = DFBlock(cond_dim, c_in, hidden), nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.fuse1, self.conv1 = DFBlock(cond_dim, c_out, hidden), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        h = self.conv0(self.fuse0(x, cond))
        h = self.conv1(self.fuse1(h, cond))
        return self.skip(x) + h


class Generator(nn.Module):
    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.g_channels()
        cond_dim = cfg.z_dim + cfg.text_dim  # DF-GAN conditions the affines on [z, sentence]
        self.fc = nn.Linear(cfg.z_dim, ch[0] * 16)
        self.blocks = nn.ModuleList(
            UpBlock(cond_dim, a, b, cfg.cond_hidden) for a, b in zip(ch[:-1], ch[1:], strict=True)
        )
        self.to_rgb = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[-1], 3, 3, 1, 1))

    def forward(self, z: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([z, text_emb * self.cfg.text_scale], dim=1)
        x = self.fc(z).view(z.shape[0], -1, 4, 4)
        for block in self.blocks:
            x = block(x, cond)
        rgb = self.to_rgb(x)
        # Linear RGB while training, clamped when sampling (as StyleGAN): with a tanh, pushing the
        # white backgrounds towards exactly +1 saturated it and froze G in one of our runs.
        return rgb if self.training else rgb.clamp(-1.0, 1.0)
