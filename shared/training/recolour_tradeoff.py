"""Where the re-colour output can sit between "the judge knows the product" and "the colour is
right": the same samples, the same warped pictures, with parts of the maps G predicts turned off.

    adgen eval kinds MODEL_DIR DATA_DIR --tradeoff

The exemplar generator's colourise output (``shared/gan/recolour.py``) rotates hues, scales
saturation, mixes all hues towards one, and tints grey parts. Each setting below redraws the
model's samples for ``unseen_colour_prompts`` with some of those maps replaced, and reads kind
top-1 (the AdGen evaluator, ``export.kind_scores``) and colour (the check) off the result, so
the cost in kind of each step towards the asked colour is measured on one model in one run
instead of argued from separate ones (docs/gan.md, session 15).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from shared.eval.model import Evaluator
from shared.gan.checkpoint import load_model
from shared.gan.sampling import seeded_noise, to_pil
from shared.training.data import Embed, colour_of
from shared.training.export import kind_scores, product_colour, unseen_colour_prompts

# Channel of each map in the colourise output: hue rotation (a, b), saturation s, grey level v,
# target direction (p, q), mix m, tint t.
SAT, MIX, TINT = 2, 6, 7
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class Setting:
    name: str
    tint: float = 1.0  # the tint's strength, as a share of the predicted one
    keep_saturation: bool = False  # saturation gain 1 (the picture's own chroma strength)
    mix: float | None = None  # the mix towards one hue (0..1) instead of the predicted one


SETTINGS = (
    Setting("as trained"),
    Setting("tint halved", tint=0.5),
    Setting("no tint", tint=0.0),
    Setting("no tint, saturation kept", tint=0.0, keep_saturation=True),
    Setting("no tint, saturation kept, one hue", tint=0.0, keep_saturation=True, mix=1.0),
    Setting("hue rotation only", tint=0.0, keep_saturation=True, mix=0.0),
)


def adjusted(params: torch.Tensor, setting: Setting) -> torch.Tensor:
    """``params`` [B, 8, H, W] with the setting's maps replaced (inverting each map's squashing
    in ``hue_recolour`` so the value it applies is the one asked)."""
    out = params.clone()
    out[:, TINT] = torch.atanh((torch.tanh(params[:, TINT]) * setting.tint).clamp(-0.999, 0.999))
    if setting.keep_saturation:
        out[:, SAT] = 0.0  # 2 ** tanh(0) == 1
    if setting.mix is not None:
        # mix = 1.5 sigmoid(m - ln 2) - 0.5, so m = logit((mix + 0.5) / 1.5) + ln 2
        share = torch.tensor((setting.mix + 0.5) / 1.5).clamp(1e-4, 1 - 1e-4)
        out[:, MIX] = torch.logit(share) + _LN2
    return out


@torch.no_grad()
def tradeoff(
    model_dir: Path | str,
    data: Path,
    embed: Embed,
    evaluator: Evaluator,
    prompts: int = 128,
    seeds: int = 2,
    seed: int = 1,
    settings: tuple[Setting, ...] = SETTINGS,
) -> list[dict[str, float | str]]:
    """One row per setting: kind top-1/top-5 and colour right (the check) on the learnt
    products in unseen colours, cell i with noise seed 1000 + i as ``kind_check`` draws them."""
    gen = load_model(model_dir).generator.eval()
    if gen.hue != "colourise":
        raise ValueError(
            f"{model_dir}: the trade-off needs exemplar_hue colourise, not {gen.hue!r}"
        )
    chosen = unseen_colour_prompts(data, prompts, seed)
    cells = [p for p in chosen for _ in range(seeds)]
    z = seeded_noise(list(range(1000, 1000 + len(cells))), gen.cfg.z_dim)
    picture, params = gen.recolour_params(z, embed(cells).float())
    rows: list[dict[str, float | str]] = []
    for setting in settings:
        images = to_pil(gen.recolour(picture, adjusted(params, setting)).clamp(-1.0, 1.0))
        kind = kind_scores(images, cells, chosen, embed, evaluator)
        right = [product_colour(im) == colour_of(c) for im, c in zip(images, cells, strict=True)]
        rows.append(
            {
                "setting": setting.name,
                "kind_top1": kind["kind_top1"],
                "kind_top5": kind["kind_top5"],
                "colour_match": float(np.mean(right)),
            }
        )
    return rows
