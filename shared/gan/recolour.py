"""The exemplar generator's constrained output (``GANConfig.exemplar_hue``): re-colour only.

G predicts four maps per pixel and this applies them to the retrieved, warped picture:

- a hue rotation about the grey axis, as the direction of ``(1 + a, b)`` (so zeros are the
  identity and the angle is free to wrap without a discontinuity);
- a saturation gain ``2 ** tanh(s)`` in [floor, 2] on the chroma (the pixel minus its grey;
  the floor is ``GANConfig.exemplar_sat_floor``, 1/2 by default, reached as ``floor **
  -tanh(s)`` for negative ``s``);
- a gamma ``2 ** (range tanh(v))`` on the grey (``GANConfig.exemplar_gamma_range``, 0.7 by
  default), which lightens or darkens the mid-tones and
  leaves white and black where they are (a plain brightness gain let G grey the white ground in
  a first tiny run).
  With ``lift="lights"`` (``GANConfig.exemplar_lift``) lightening is no gamma: the lights move
  towards ``LIGHTS_TOP`` (just under ground level, so a product never vanishes into the white
  ground) by ``-tanh(v)`` of their distance to it, weighted by a smoothstep of the
  pixel's HSV value (its largest channel) from ``LIGHTS_FROM`` to ``LIGHTS_TO``, so dark
  pixels (outlines) stay where they are while a saturated fill, light by its value though its
  grey is low, can still become white. A gamma strong
  enough to make a drawing white (2^-2) lifts its dark-grey, anti-aliased outline to mid grey
  (0.24 -> 0.70), and a white product faded into the white ground (docs/gan.md, session 13).
  With ``lift="rim"`` the lights move the same way and the product's rim (its pixels that
  touch the border-connected ground) moves towards ``RIM_LEVEL`` by the same share: most Noto
  drawings have no dark outline of their own, and without one a white product fades into the
  white ground whatever the lift (docs/gan.md, session 15).

White ground and black outlines have no chroma and sit at the gamma's fixed points, so they
stay exactly and the drawing's structure survives every re-colouring; that is the point (the
free per-pixel gain/offset output repainted it and lost kind accuracy, docs/gan.md).
With eight maps (``exemplar_hue: "colourise"``) four more paint the product in one colour:

- a target direction in the chroma plane, the direction of ``(1 + p, q)`` (red at zero);
- a mix ``m`` from the rotated chroma towards that direction at the same strength (0 at zero:
  a multi-coloured drawing can become one colour, which a rotation of all hues cannot do);
- a tint ``t`` that adds chroma along the direction in proportion to ``4 g (1 - g)`` of the
  pixel's grey ``g``, so grey and silver parts can take a colour while white ground and black
  outlines still cannot (a rotation or a gain leaves a grey product grey, whatever the text).

Pure tensor maths, differentiable everywhere (directions and lengths carry an epsilon).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SAT_RANGE = 1.0  # log2 of the largest saturation gain
GAMMA_RANGE = 0.7  # log2 of the largest gamma on the grey, by default
SAT_FLOOR = 0.5  # least saturation gain, by default
# lift="lights": pixels whose HSV value is below LIGHTS_FROM (0.3 reads as black: outlines)
# never move, those above LIGHTS_TO move all the way the lift asks, a smoothstep between.
LIGHTS_FROM, LIGHTS_TO = 0.3, 0.6
# ... and they move towards this level, not to 1: just under the level where a pixel counts as
# ground (lab_colour.GROUND, 225), so a white product without an outline stays visible on the
# white ground instead of vanishing into it.
LIGHTS_TOP = 0.86
# lift="rim": the product's rim darkens towards this grey as far as the rest lightens (HSV
# value 0.25 is below augment.DARK_VALUE: it reads as an outline).
RIM_LEVEL = 0.25
TINT_RANGE = 0.6  # most chroma a tint adds, at mid grey (beyond it the colour leaves the gamut)
_INV_SQRT3 = 1.0 / math.sqrt(3.0)
_RED = (2.0 / math.sqrt(6.0), -1.0 / math.sqrt(6.0), -1.0 / math.sqrt(6.0))  # chroma-plane axes
_QUARTER = (0.0, 1.0 / math.sqrt(2.0), -1.0 / math.sqrt(2.0))
_MIX_SHIFT = math.log(2.0)  # 1.5 * sigmoid(0 - ln 2) - 0.5 == 0: zeros stay the identity


def hue_recolour(
    picture: torch.Tensor,
    params: torch.Tensor,
    gamma_range: float = GAMMA_RANGE,
    sat_floor: float = SAT_FLOOR,
    lift: str = "gamma",
) -> torch.Tensor:
    """``picture`` [B, 3, H, W] in [-1, 1], ``params`` [B, 4 or 8, H, W] -> [B, 3, H, W] in
    about [-1, 1] (not clamped: training sees the linear output, as for the other designs).
    ``lift``: "gamma" (lighten and darken by a gamma) or "lights" (darken by a gamma, lighten
    the lights only; module docstring)."""
    a, b, s, v = params.float()[:, :4].unbind(dim=1)
    x = (picture.float() + 1.0) * 0.5
    grey = x.mean(dim=1, keepdim=True)
    chroma = x - grey  # orthogonal to the grey axis u = (1, 1, 1) / sqrt(3)
    r, g, bl = chroma.unbind(dim=1)
    # u x chroma: the chroma turned a quarter turn about the grey axis.
    turned = torch.stack([bl - g, r - bl, g - r], dim=1) * _INV_SQRT3
    c, sn = 1.0 + a, b
    norm = torch.sqrt(c * c + sn * sn + 1e-6)
    cos, sin = (c / norm)[:, None], (sn / norm)[:, None]
    ts = torch.tanh(s)
    sat = torch.exp2(torch.where(ts > 0, SAT_RANGE, -math.log2(sat_floor)) * ts)[:, None]
    tv = torch.tanh(v)[:, None]
    base = grey.clamp(min=1e-6) ** torch.exp2(gamma_range * tv)
    if lift in ("lights", "rim"):
        # HSV value (largest channel): a saturated red fill is light, an outline is not.
        value = x.amax(dim=1, keepdim=True)
        t = ((value - LIGHTS_FROM) / (LIGHTS_TO - LIGHTS_FROM)).clamp(0.0, 1.0)
        room = (LIGHTS_TOP - grey).clamp(min=0.0)  # lights already above it stay
        lights = (-tv).clamp(min=0.0) * t * t * (3.0 - 2.0 * t) * room
        base = torch.where(tv < 0, grey + lights, base)
        if lift == "rim" and bool((tv < 0).any()):  # the rim's ground search only when lightening
            # The product's rim (pixels that touch the ground) goes dark as the rest lightens,
            # by the same share: a drawing with no outline of its own (most Noto art) then
            # keeps one when it is made white, instead of fading into the white ground.
            rim = _rim(x)
            darker = (-tv).clamp(min=0.0) * (grey - RIM_LEVEL).clamp(min=0.0)
            base = torch.where(tv < 0, base - rim * (base - grey + darker), base)
    new_chroma = sat * (cos * chroma + sin * turned)
    if params.shape[1] == 8:
        new_chroma = _colourise(new_chroma, base, params.float()[:, 4:])
    out = base + new_chroma
    return (out * 2.0 - 1.0).to(picture.dtype)


def _rim(x: torch.Tensor) -> torch.Tensor:
    """[B, 1, H, W], no gradient: 1 on product pixels with a ground pixel among their 8
    neighbours, else 0. The ground is the near-white connected to the border
    (``losses.enclosed_product``), so the white a drawing encloses (a plate's fill, a
    lollipop's swirl) gets no rim of its own."""
    from shared.gan.losses import enclosed_product

    product = enclosed_product(x)
    near = F.max_pool2d(1.0 - product, kernel_size=3, stride=1, padding=1)
    return near * product


def _colourise(chroma: torch.Tensor, grey: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """The mix towards one direction and the tint (module docstring); zeros change nothing."""
    p, q, m, t = params.unbind(dim=1)
    c, sn = 1.0 + p, q
    norm = torch.sqrt(c * c + sn * sn + 1e-6)
    red = torch.tensor(_RED, device=chroma.device)[None, :, None, None]
    quarter = torch.tensor(_QUARTER, device=chroma.device)[None, :, None, None]
    direction = (c / norm)[:, None] * red + (sn / norm)[:, None] * quarter
    strength = torch.sqrt(chroma.square().sum(dim=1, keepdim=True) + 1e-8)
    mix = (1.5 * torch.sigmoid(m - _MIX_SHIFT) - 0.5)[:, None]
    tint = (TINT_RANGE * torch.tanh(t))[:, None] * 4.0 * grey * (1.0 - grey)
    return (1.0 - mix) * chroma + (mix * strength + tint) * direction
