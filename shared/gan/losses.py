"""Hinge losses, DF-GAN's matching-aware gradient penalty and the generator's colour terms."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from shared.catalog.augment import DARK_VALUE
from shared.gan.discriminator import Discriminator
from shared.imaging_ground import border_frame, connected_to


def d_hinge(
    real_match: torch.Tensor,
    fake: torch.Tensor,
    real_mismatch: torch.Tensor,
    mismatch_weight: float = 0.5,
) -> torch.Tensor:
    """Real matching pairs above +1; fakes and real images with the wrong text below -1."""
    fake_terms = (1.0 - mismatch_weight) * F.relu(1.0 + fake).mean()
    return (
        F.relu(1.0 - real_match).mean()
        + fake_terms
        + mismatch_weight * F.relu(1.0 + real_mismatch).mean()
    )


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


WHITE_LEVEL = 0.88  # a pixel whose darkest channel is above this is ground, not product


def enclosed_product(x: torch.Tensor, level: float = WHITE_LEVEL) -> torch.Tensor:
    """[B, 1, H, W] float, no gradient: 1 on the product pixels of ``x`` ([B, 3, H, W] in
    [0, 1]), 0 on the ground: the near-white pixels (darkest channel above ``level``) connected
    to the border through near-white pixels. Near-white pixels the product encloses (a white
    plate inside its outline) are product. The rule of ``shared.imaging_ground.ground``: on
    the CPU by its connected-component labelling (~2 ms for 32 pictures of 64 px), elsewhere by
    growing the border's near-white pixels (3x3 max-pool) inside the near-white ones until
    they stop growing (no host round trip; ~50 ms on a CPU, hence not used there)."""
    with torch.no_grad():
        white = (x.float().amin(dim=1, keepdim=True) > level).float()
        if x.device.type == "cpu":
            near = white[:, 0].numpy() > 0.5
            edge = border_frame(near.shape[1:])
            ground = np.stack([connected_to(n, edge) for n in near])
            return 1.0 - torch.from_numpy(ground[:, None].astype(np.float32))
        return 1.0 - ground_by_growing(white)


def ground_by_growing(white: torch.Tensor) -> torch.Tensor:
    """[B, 1, H, W] 0/1: the parts of ``white`` (0/1, same shape) connected to the border."""
    edge = torch.zeros_like(white)
    edge[..., 0, :], edge[..., -1, :], edge[..., :, 0], edge[..., :, -1] = 1.0, 1.0, 1.0, 1.0
    reach = white * edge
    for _ in range(white.shape[-1] * white.shape[-2]):  # a bound no real picture reaches
        before = reach
        for _ in range(8):  # several steps per convergence check (each check syncs)
            reach = F.max_pool2d(reach, 3, stride=1, padding=1) * white
        if torch.equal(reach, before):
            break
    return reach


def _product(x: torch.Tensor, enclosed: bool) -> torch.Tensor:
    """[B, 1, H, W] product mask of ``x`` in [0, 1]: every pixel not near white, or (with
    ``enclosed``, ``GANConfig.colour_ground``) every pixel but the border-connected ground."""
    if enclosed:
        return enclosed_product(x)
    return (x.amin(dim=1, keepdim=True) < WHITE_LEVEL).float().detach()


def mean_chroma(images: torch.Tensor, enclosed: bool = False) -> torch.Tensor:
    """[B, 3]: mean chroma (each pixel minus its grey, in [0, 1] units) over the pixels that
    are not white ground; the mask carries no gradient, the chroma does."""
    x = (images.float() + 1.0) * 0.5
    chroma = x - x.mean(dim=1, keepdim=True)
    product = _product(x, enclosed)
    return (chroma * product).sum(dim=(2, 3)) / (product.sum(dim=(2, 3)) + 1.0)


def colour_match_loss(
    fake: torch.Tensor, real: torch.Tensor, enclosed: bool = False
) -> torch.Tensor:
    """Squared distance between the mean chroma of each fake and of the real training picture
    of its caption (``GANConfig.colour_loss``): "purple handbag" is pulled to purple directly,
    a plain caption to the product's own colours.  A train-split statistic of the pair, never
    the evaluator that grades colour and kind."""
    return (mean_chroma(fake, enclosed) - mean_chroma(real, enclosed)).square().sum(dim=1).mean()


# The palette's hue ranges (shared/catalog/augment.PALETTE) as directions in the chroma plane,
# and how bright and saturated a pixel must be for its hue to be read as the word rather than as
# brown or olive (augment.visible_colour's "dull" rule, with a margin so the loss aims inside).
_RED_AXIS = (2.0 / math.sqrt(6.0), -1.0 / math.sqrt(6.0), -1.0 / math.sqrt(6.0))
_QUARTER_AXIS = (0.0, 1.0 / math.sqrt(2.0), -1.0 / math.sqrt(2.0))
_HUE_MARGIN = 4.0  # degrees kept inside each end of a word's hue range
_SHARP = 0.03  # width of the soft saturation and value thresholds
_SHARP_DEG = 2.0  # width of the soft hue threshold, degrees
_PULL = 0.25  # chroma (0..1 units) along the colour's direction asked of each product pixel


_OPEN = 9.0  # an upper bound no saturation or value reaches: the soft threshold is exactly 1
# How far inside the check's black and white value thresholds the loss aims (white's band is
# narrow: above LIGHT_VALUE, yet below WHITE_LEVEL, where a pixel becomes ground).
_DARK_MARGIN, _LIGHT_MARGIN = 0.08, 0.05


def palette_targets(
    palette: dict[str, tuple[float, float, float]], shades: tuple[str, ...] = ()
) -> tuple[list[str], torch.Tensor]:
    """(colour names, [C, 11] rows) for ``colour_word_loss``: the palette's words, then any of
    augment.SHADES. A row is: cos and sin of the hue range's middle, its half width less the
    margin in degrees, least saturation, least value, most saturation, most value, whether the
    hue counts, whether value and saturation above their upper bounds are pulled back, whether
    value below its lower bound is, and whether a saturated pixel counts as wrong by its hue
    alone (not by its value).

    Palette rows ask for a hue and leave the upper bounds open, exactly as before shades
    existed. Black asks for dark pixels of any hue, white for light unsaturated ones (light
    grey: purely white pixels are ground), brown for an orange hue, saturated, dark enough that
    both augment.visible_colour (value under 0.7) and the Lab reading (L* under 0.6 of orange's)
    say brown (the product's outlines darken the Lab mean further), yet light enough (value
    over 0.45) that the check still counts it as coloured. Brown pulls no pixel lighter (that
    would grey the outlines) and calls a bright orange pixel too bright, not wrong: both of
    those made a grey product the cheapest answer to "brown" (docs/gan.md, session 11)."""
    from shared.catalog.augment import DARK_VALUE, LIGHT_SAT, LIGHT_VALUE

    names, rows = [], []
    for name, (_, low, high) in palette.items():
        middle, half = math.radians((low + high) / 2.0), math.radians((high - low) / 2.0)
        warm = -15.0 <= (low + high) / 2.0 <= 70.0  # red, orange, yellow: dark reads brown
        least_sat = 0.70 if name == "orange" else 0.45
        least_val = 0.75 if warm else 0.65 if name == "pink" else 0.50
        reach = max(math.degrees(half) - _HUE_MARGIN, 1.0)
        names.append(name)
        rows.append([math.cos(middle), math.sin(middle), reach, least_sat, least_val])
        rows[-1] += [_OPEN, _OPEN, 1.0, 0.0, 0.0, 0.0]
    brown = math.radians(30.0)
    shade_rows = {
        "black": [1.0, 0.0, 180.0, -_OPEN, -_OPEN, _OPEN, DARK_VALUE - _DARK_MARGIN]
        + [0.0, 1.0, 0.0, 0.0],
        "white": [1.0, 0.0, 180.0, -_OPEN, LIGHT_VALUE + _LIGHT_MARGIN, LIGHT_SAT / 2, _OPEN]
        + [0.0, 1.0, 1.0, 0.0],
        "brown": [math.cos(brown), math.sin(brown), 11.0, 0.75, 0.46, _OPEN, 0.58]
        + [1.0, 1.0, 0.0, 1.0],
    }
    for name in shades:
        names.append(name)
        rows.append(shade_rows[name])
    return names, torch.tensor(rows)


def colour_word_shares(
    images: torch.Tensor, targets: torch.Tensor, enclosed: bool = False
) -> torch.Tensor:
    """[B, 3]: for each image and its target row (``palette_targets``), the soft share of its
    product pixels (not white ground) that read as the colour, the soft share of its saturated
    pixels that do not, and how far its product pixels fall short of the colour (mean of the
    shortfall: chroma short of ``_PULL`` along the colour's direction, plus value and
    saturation outside the row's bounds where the row pulls them; these have a gradient far
    from the thresholds, where the soft shares have none).  HSV value and saturation are the
    max and (max - min) / max; the hue is the angle in the chroma plane, which equals HSV hue
    at the six primaries and secondaries and stays within a few degrees between them.

    ``enclosed`` (``GANConfig.colour_ground == "enclosed"``): the product is every pixel but the
    border-connected white ground (``enclosed_product``), so a white product's own white fill
    counts; no pixel the check reads as black (an outline) is pulled lighter, and the white
    share is of the pixels that are not dark, as the check reads it (rows that pull the value
    up, i.e. white)."""
    x = ((images.float() + 1.0) * 0.5).clamp(0.0, 1.0)
    top, low = x.amax(dim=1), x.amin(dim=1)
    sat = (top - low) / (top + 1e-4)
    chroma = x - x.mean(dim=1, keepdim=True)
    red = torch.tensor(_RED_AXIS, device=x.device)[None, :, None, None]
    quarter = torch.tensor(_QUARTER_AXIS, device=x.device)[None, :, None, None]
    u, v = (chroma * red).sum(dim=1), (chroma * quarter).sum(dim=1)
    t = targets.to(x.device)[:, :, None, None]
    hue_on, pull_hi, pull_lo, by_hue = t[:, 7], t[:, 8], t[:, 9], t[:, 10]
    # Angle to the range's middle; near-grey pixels (tiny u, v) are gated out by ``saturated``.
    off = torch.rad2deg(torch.atan2(v * t[:, 0] - u * t[:, 1], u * t[:, 0] + v * t[:, 1])).abs()
    saturated = torch.sigmoid((sat - 0.45) / _SHARP) * torch.sigmoid((top - 0.50) / _SHARP)
    hue_ok = torch.sigmoid((t[:, 2] - off) / _SHARP_DEG) * hue_on + (1.0 - hue_on)
    right = (
        hue_ok
        * torch.sigmoid((sat - t[:, 3]) / _SHARP)
        * torch.sigmoid((top - t[:, 4]) / _SHARP)
        * torch.sigmoid((t[:, 5] - sat) / _SHARP)
        * torch.sigmoid((t[:, 6] - top) / _SHARP)
    )
    product = _product(x, enclosed)[:, 0]
    counted = product
    if enclosed:  # white is read on the pixels that are not dark, as augment.visible_shade does
        counted = product * (1.0 - pull_lo * (top < DARK_VALUE).float())
    good = (right * counted).sum(dim=(1, 2)) / (counted.sum(dim=(1, 2)) + 1.0)
    judged = right * (1.0 - by_hue) + hue_ok * by_hue
    wrong = ((saturated - judged).clamp(min=0.0) * product).sum(dim=(1, 2))
    wrong = wrong / ((saturated * product).sum(dim=(1, 2)) + 1.0)
    along = u * t[:, 0] + v * t[:, 1]
    gap = hue_on * (_PULL - along).clamp(min=0.0)
    above = (top - t[:, 6]).clamp(min=0.0) + (sat - t[:, 5]).clamp(min=0.0)
    lift = pull_lo * (t[:, 4] - top).clamp(min=0.0)
    if enclosed:  # outlines stay: a white product is its white fill inside a dark outline
        lift = lift * (top > DARK_VALUE).float()
    gap = gap + pull_hi * above + lift
    short = (gap * product).sum(dim=(1, 2)) / (product.sum(dim=(1, 2)) + 1.0)
    return torch.stack([good, wrong, short], dim=1)


COLOUR_WORD_SHARE = 0.6  # share of product pixels a colour word asks to read as that colour


def colour_word_loss(
    images: torch.Tensor, targets: torch.Tensor, enclosed: bool = False
) -> torch.Tensor:
    """G term for captions that name a palette colour (``GANConfig.colour_word_loss``): at least
    ``COLOUR_WORD_SHARE`` of the product reads as the word, little of it as another colour, and
    grey parts are pulled towards the colour (the shares alone give them no gradient).
    It needs no real picture, so it trains every learnt product with every colour word, the
    pairs no catalog picture shows.  It shares its thresholds with the colour check, so the
    colour figure of a model trained with it is no longer an independent measure (docs/gan.md)."""
    shares = colour_word_shares(images, targets, enclosed)
    reach = (COLOUR_WORD_SHARE - shares[:, 0]).clamp(min=0.0)
    return (reach + shares[:, 1] + shares[:, 2]).mean()


def ma_gp(
    disc: Discriminator, real: torch.Tensor, text_emb: torch.Tensor, k: float = 2.0, p: float = 6.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """k * E[||grad_(x, s) D(x, s)||^p] on real matching pairs: flattens D around the data so
    that both the image and the sentence lie in a smooth region (Tao et al., DF-GAN, 2022).

    Returns (penalty, D's logits on the pairs, D's features of the images) for reuse.
    """
    real = real.detach().requires_grad_(True)
    text = text_emb.detach().requires_grad_(True)
    feats = disc.features(real)
    out = disc.logits(feats, text)
    g_img, g_txt = torch.autograd.grad(out.float().sum(), (real, text), create_graph=True)
    g_txt = g_txt / disc.cfg.text_scale  # gradient w.r.t. the sentence vector D actually sees
    norm = torch.cat([g_img.flatten(1), g_txt.flatten(1)], dim=1).float().norm(2, dim=1)
    return k * norm.pow(p).mean(), out, feats
