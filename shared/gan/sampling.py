"""Generator inputs and outputs, one definition for serving, training, export and evaluation."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def seeded_noise(seeds: list[int], z_dim: int) -> torch.Tensor:
    """[N, z_dim] noise, one CPU generator per sample: an image depends on its seed alone, not
    on which other samples share its batch (so batching and redelivery give the same pixels)."""
    return torch.stack(
        [torch.randn(z_dim, generator=torch.Generator().manual_seed(int(s))) for s in seeds]
    )


def to_pil(batch: torch.Tensor) -> list[Image.Image]:
    """[N, 3, H, W] in [-1, 1] -> RGB images."""
    arr = ((batch.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    arr_np = arr.permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(np.ascontiguousarray(a), "RGB") for a in arr_np]
