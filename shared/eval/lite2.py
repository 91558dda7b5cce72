"""EfficientNet-Lite2 (ImageNet, from the PyPI wheel) as an independent judge of images.

A different network from the projected discriminator's Lite0 backbone and from our own evaluator,
so a generator trained against either cannot fit these features directly.  Images are resized
to 224 px (Lite2's training size) and read in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from shared.gan.pretrained import LITE2, lite_pooled_and_logits, shared_lite

LITE2_SIZE = 224


@dataclass
class Lite2Output:
    features: np.ndarray  # [N, 1280] pooled head features (float64)
    probs: np.ndarray  # [N, 1000] ImageNet class probabilities


@torch.no_grad()
def lite2_encode(images: torch.Tensor, batch_size: int = 64) -> Lite2Output:
    """uint8 [N, 3, H, W] images -> Lite2 pooled features and ImageNet probabilities."""
    net = shared_lite(LITE2)
    feats, probs = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].float().div(127.5).sub(1.0)
        x = F.interpolate(
            x, size=(LITE2_SIZE, LITE2_SIZE), mode="bilinear", align_corners=False, antialias=True
        )
        pooled, logits = lite_pooled_and_logits(net, x)
        feats.append(pooled.double())
        probs.append(logits.double().softmax(dim=1))
    return Lite2Output(torch.cat(feats).numpy(), torch.cat(probs).numpy())
