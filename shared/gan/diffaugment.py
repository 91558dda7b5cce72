"""Differentiable augmentation (Zhao et al. 2020): the same random transforms on real and fake
images before D, so D cannot memorise a small catalog and G still gets gradients.

Hue is never changed, and saturation only within [0.5, 1.5], because D must still read the colour
word in the caption off the image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _color(x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
    n = x.shape[0]
    rand = torch.rand(n, 3, 1, 1, 1, device=x.device, generator=g, dtype=torch.float32).to(x.dtype)
    x = x + (rand[:, 0] - 0.5)  # brightness, in [-1, 1] image units
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (rand[:, 1] + 0.5) + mean  # saturation x[0.5, 1.5]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (rand[:, 2] + 0.5) + mean  # contrast x[0.5, 1.5]


def _translation(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device, generator=g)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device, generator=g)
    iy = torch.arange(h, device=x.device)[None, :, None] + dy
    ix = torch.arange(w, device=x.device)[None, None, :] + dx
    # Shift with zero padding: index into a padded copy (zeros are mid-grey in [-1, 1]).
    padded = F.pad(x, [1, 1, 1, 1])
    iy = (iy + 1).clamp(0, h + 1).expand(n, h, w)
    ix = (ix + 1).clamp(0, w + 1).expand(n, h, w)
    batch = torch.arange(n, device=x.device)[:, None, None].expand(n, h, w)
    return padded.permute(0, 2, 3, 1)[batch, iy, ix].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, g: torch.Generator | None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device, generator=g)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device, generator=g)
    ys = torch.arange(h, device=x.device)[None, :, None]
    xs = torch.arange(w, device=x.device)[None, None, :]
    inside = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)
    return x * (~inside)[:, None].to(x.dtype)


POLICIES = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: str, g: torch.Generator | None = None) -> torch.Tensor:
    for name in filter(None, (p.strip() for p in policy.split(","))):
        x = POLICIES[name](x, g)
    return (
        x.contiguous(memory_format=torch.channels_last)
        if x.is_contiguous(memory_format=torch.channels_last)
        else x
    )
