"""DF-GAN-style generator: noise -> 4x4 map -> upsampling blocks fused with the text -> RGB.

With ``g_arch: "exemplar"`` a retrieved catalog picture's grey map and silhouette
(``shared.gan.exemplars``) are concatenated to the features at every resolution and before the
RGB layer, so the shape enters spatially and the text and noise paint it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from shared.gan.config import GANConfig
from shared.gan.exemplars import ExemplarBank, exemplar_guide
from shared.gan.recolour import hue_recolour


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
    """x2 upsample; residual fuse -> conv -> fuse -> conv; 1x1 shortcut when widths differ.
    ``guide`` channels (the exemplar map at this resolution) join the input after upsampling."""

    def __init__(self, cond_dim: int, c_in: int, c_out: int, hidden: int, guide: int = 0) -> None:
        super().__init__()
        c_in += guide
        self.fuse0, self.conv0 = DFBlock(cond_dim, c_in, hidden), nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.fuse1, self.conv1 = DFBlock(cond_dim, c_out, hidden), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(
        self, x: torch.Tensor, cond: torch.Tensor, guide: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if guide is not None:
            x = torch.cat([x, _resized(guide, x.shape[-1])], dim=1)
        h = self.conv0(self.fuse0(x, cond))
        h = self.conv1(self.fuse1(h, cond))
        return self.skip(x) + h


def bank_tensors(bank: ExemplarBank) -> dict[str, torch.Tensor]:
    """The bank as the generator's buffers name it (and ``bank.safetensors`` stores it)."""
    return {
        "bank_keys": bank.keys,
        "bank_row_concept": bank.row_concept,
        "bank_maps": bank.maps,
        "bank_first": bank.first,
        "bank_count": bank.count,
    }


def _resized(guide: torch.Tensor, size: int) -> torch.Tensor:
    if guide.shape[-1] == size:
        return guide
    mode = "area" if guide.shape[-1] > size else "bilinear"
    return F.interpolate(guide, size=(size, size), mode=mode)


class Generator(nn.Module):
    # The exemplar bank's buffers (g_arch "exemplar" only; shared/gan/exemplars.py).
    bank_keys: torch.Tensor
    bank_row_concept: torch.Tensor
    bank_maps: torch.Tensor
    bank_first: torch.Tensor
    bank_count: torch.Tensor

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.g_channels()
        cond_dim = cfg.z_dim + cfg.text_dim  # DF-GAN conditions the affines on [z, sentence]
        guide = cfg.guide_channels
        self.fc = nn.Linear(cfg.z_dim, ch[0] * 16)
        self.blocks = nn.ModuleList(
            UpBlock(cond_dim, a, b, cfg.cond_hidden, guide)
            for a, b in zip(ch[:-1], ch[1:], strict=True)
        )
        self.residual = cfg.g_arch == "exemplar" and cfg.exemplar_residual
        self.hue = cfg.exemplar_hue if cfg.g_arch == "exemplar" else "off"
        self.gamma_range, self.sat_floor = cfg.exemplar_gamma_range, cfg.exemplar_sat_floor
        # gain and offset per RGB channel, hue/saturation/brightness maps, or the RGB itself
        out = (
            6 if self.residual else 8 if self.hue == "colourise" else 4 if self.hue != "off" else 3
        )
        last = nn.Conv2d(ch[-1] + guide, out, 3, 1, 1)
        if out != 3:  # start as the exact picture (zeros are the identity)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)  # type: ignore[arg-type]  # bias=True: never None
        self.to_rgb = nn.Sequential(nn.LeakyReLU(0.2), last)
        if guide:
            s = cfg.exemplar_size
            self.register_buffer("bank_keys", torch.zeros(cfg.exemplar_rows, cfg.text_dim))
            self.register_buffer(
                "bank_row_concept", torch.zeros(cfg.exemplar_rows, dtype=torch.long)
            )
            self.register_buffer(
                "bank_maps", torch.zeros(cfg.exemplar_pictures, guide, s, s, dtype=torch.uint8)
            )
            self.register_buffer("bank_first", torch.zeros(cfg.exemplar_concepts, dtype=torch.long))
            self.register_buffer("bank_count", torch.ones(cfg.exemplar_concepts, dtype=torch.long))

    def resize_bank(self, shapes: dict[str, torch.Size]) -> None:
        """Give the bank buffers these shapes (zeros) before a bank of another catalog is
        loaded into them: a deployment's catalog need not be the training catalog's size."""
        for name, shape in shapes.items():
            old = getattr(self, name)
            setattr(self, name, torch.zeros(shape, dtype=old.dtype, device=old.device))

    def set_bank(self, bank: ExemplarBank) -> None:
        """Copy a freshly built bank into the buffers (resized to it)."""
        tensors = bank_tensors(bank)
        self.resize_bank({k: v.shape for k, v in tensors.items()})
        for name, value in tensors.items():
            getattr(self, name).copy_(value)

    def guide(self, z: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor | None:
        """The exemplar map for each sample ([B, 2, S, S]), or None for the dfgan design."""
        if self.cfg.g_arch != "exemplar":
            return None
        return exemplar_guide(
            z,
            text_emb,
            self.bank_keys,
            self.bank_row_concept,
            self.bank_maps,
            self.bank_first,
            self.bank_count,
            self.cfg.exemplar_warp,
        )

    def _trunk(
        self, z: torch.Tensor, text_emb: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The last layer's output and the exemplar map at its size (None for dfgan)."""
        guide = self.guide(z, text_emb)
        cond = torch.cat([z, text_emb * self.cfg.text_scale], dim=1)
        x = self.fc(z).view(z.shape[0], -1, 4, 4)
        for block in self.blocks:
            x = block(x, cond, guide)
        if guide is not None:
            guide = _resized(guide, x.shape[-1]).to(x.dtype)
            x = torch.cat([x, guide], dim=1)
        return self.to_rgb(x), guide

    def recolour_params(
        self, z: torch.Tensor, text_emb: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the retrieved, warped picture, the re-colour maps G predicts for it), for the
        constrained-output designs (``exemplar_hue`` not "off"): ``recolour(picture, maps)`` is
        what ``forward`` draws, so a caller can look at or change the maps first."""
        if self.hue == "off" or self.residual:
            raise ValueError("recolour_params needs g_arch exemplar with exemplar_hue set")
        rgb, guide = self._trunk(z, text_emb)
        assert guide is not None
        if self.hue in ("global", "colourise"):  # one setting per picture: maps' mean
            rgb = rgb.mean(dim=(2, 3), keepdim=True).expand_as(rgb)
        return guide, rgb

    def recolour(self, picture: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        return hue_recolour(
            picture, params, self.gamma_range, self.sat_floor, self.cfg.exemplar_lift
        )

    def forward(self, z: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        if self.hue != "off" and not self.residual:
            rgb = self.recolour(*self.recolour_params(z, text_emb))
        else:
            rgb, guide = self._trunk(z, text_emb)
            if self.residual:
                assert guide is not None
                gain, offset = rgb.chunk(2, dim=1)
                rgb = guide * (1.0 + gain) + offset
        # Linear RGB while training, clamped when sampling (as StyleGAN): with a tanh, pushing the
        # white backgrounds towards exactly +1 saturated it and froze G in one of our runs.
        return rgb if self.training else rgb.clamp(-1.0, 1.0)
