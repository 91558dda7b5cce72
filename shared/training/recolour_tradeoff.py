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
    unchanged: bool = False  # every map zero: the retrieved, warped picture as it is


SETTINGS = (
    Setting("as trained"),
    Setting("tint halved", tint=0.5),
    Setting("no tint", tint=0.0),
    Setting("no tint, saturation kept", tint=0.0, keep_saturation=True),
    Setting("no tint, saturation kept, one hue", tint=0.0, keep_saturation=True, mix=1.0),
    Setting("hue rotation only", tint=0.0, keep_saturation=True, mix=0.0),
    Setting("the retrieved picture, unchanged", unchanged=True),
)


def adjusted(params: torch.Tensor, setting: Setting) -> torch.Tensor:
    """``params`` [B, 8, H, W] with the setting's maps replaced (inverting each map's squashing
    in ``hue_recolour`` so the value it applies is the one asked)."""
    if setting.unchanged:
        return torch.zeros_like(params)  # zeros are the identity (shared/gan/recolour.py)
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


def real_new_colour_point(
    data: Path, embed: Embed, evaluator: Evaluator, prompts: int = 128, seed: int = 1
) -> dict[str, float]:
    """Real pictures of the same products re-coloured into the asked colours by the catalog's
    own method (``export.real_new_colour_ceiling``): where a real picture sits on this plane."""
    from shared.training.export import real_new_colour_ceiling

    chosen = unseen_colour_prompts(data, prompts, seed)
    found = real_new_colour_ceiling(data, chosen, embed, evaluator)
    if not found:
        return {}
    return {k: float(found[k]) for k in ("kind_top1", "colour_match", "pictures")}


def plot(rows: list[dict[str, float | str]], real: dict[str, float], out: Path) -> None:
    """Kind top-1 against colour right, one point per setting, and the real pictures' point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    xs = [float(r["colour_match"]) for r in rows]
    ys = [float(r["kind_top1"]) for r in rows]
    ax.scatter(xs, ys, color="tab:blue", zorder=3, label="the model's samples, per setting")
    for r, x, y in zip(rows, xs, ys, strict=True):
        ax.annotate(
            str(r["setting"]), (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8
        )
    if real:
        ax.scatter(
            [real["colour_match"]],
            [real["kind_top1"]],
            marker="*",
            s=180,
            color="tab:red",
            zorder=3,
            label=f"real pictures re-coloured into the asked colour (n = {real['pictures']:.0f})",
        )
    ax.axhline(0.5, color="grey", linestyle=":", label="issue 17's bar (kind top-1 0.5)")
    ax.axvline(0.85, color="grey", linestyle="--", label="issue 17's bar (colour 85%)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0.0, max(0.55, *ys) + 0.06)  # room for the top label under the title
    ax.set_xlabel("colour right (the check)")
    ax.set_ylabel("kind top-1, AdGen evaluator (chance 1/128)")
    ax.set_title("Learnt products in unseen colours: the re-colour output's trade-off")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
