"""The exemplar generator's constrained output (``GANConfig.exemplar_hue``): re-colour only.

G predicts four maps per pixel and this applies them to the retrieved, warped picture:

- a hue rotation about the grey axis, as the direction of ``(1 + a, b)`` (so zeros are the
  identity and the angle is free to wrap without a discontinuity);
- a saturation gain ``2 ** tanh(s)`` in [1/2, 2] on the chroma (the pixel minus its grey);
- a gamma ``2 ** (0.7 tanh(v))`` on the grey, which lightens or darkens the mid-tones and
  leaves white and black where they are (a plain brightness gain let G grey the white ground in
  a first tiny run).

White ground and black outlines have no chroma and sit at the gamma's fixed points, so they
stay exactly and the drawing's structure survives every re-colouring; that is the point (the
free per-pixel gain/offset output repainted it and lost kind accuracy, docs/gan.md).
Pure tensor maths, differentiable everywhere (the direction is normalised with an epsilon).
"""

from __future__ import annotations

import math

import torch

SAT_RANGE = 1.0  # log2 of the largest saturation gain
GAMMA_RANGE = 0.7  # log2 of the largest gamma on the grey
_INV_SQRT3 = 1.0 / math.sqrt(3.0)


def hue_recolour(picture: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """``picture`` [B, 3, H, W] in [-1, 1], ``params`` [B, 4, H, W] -> [B, 3, H, W] in about
    [-1, 1] (not clamped: training sees the linear output, as for the other designs)."""
    a, b, s, v = params.float().unbind(dim=1)
    x = (picture.float() + 1.0) * 0.5
    grey = x.mean(dim=1, keepdim=True)
    chroma = x - grey  # orthogonal to the grey axis u = (1, 1, 1) / sqrt(3)
    r, g, bl = chroma.unbind(dim=1)
    # u x chroma: the chroma turned a quarter turn about the grey axis.
    turned = torch.stack([bl - g, r - bl, g - r], dim=1) * _INV_SQRT3
    c, sn = 1.0 + a, b
    norm = torch.sqrt(c * c + sn * sn + 1e-6)
    cos, sin = (c / norm)[:, None], (sn / norm)[:, None]
    sat = torch.exp2(SAT_RANGE * torch.tanh(s))[:, None]
    gamma = torch.exp2(GAMMA_RANGE * torch.tanh(v))[:, None]
    out = grey.clamp(min=1e-6) ** gamma + sat * (cos * chroma + sin * turned)
    return (out * 2.0 - 1.0).to(picture.dtype)
