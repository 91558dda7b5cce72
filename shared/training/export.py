"""Turn a training run into a small, documented model directory (the committed default model).

Writes fp16 safetensors + config/meta, a captioned grid for held-out prompts, the loss plot and
measured numbers the model card quotes.  Noise is made per sample from its seed exactly as the
worker does, so anyone can regenerate the grid.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import visible_colour
from shared.gan.checkpoint import load_model, save_model
from shared.gan.discriminator import Discriminator
from shared.gan.generator import Generator
from shared.training.data import Embed, colour_of
from shared.training.loop import default_prompts
from shared.training.visuals import captioned_grid, to_pil


def product_colour(image: Image.Image) -> str | None:
    """The palette word for an image's product pixels (near-white background ignored)."""
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    alpha = np.where(rgb.min(axis=2) > 225, 0, 255).astype(np.uint8)
    rgba = np.dstack([rgb.astype(np.uint8), alpha])
    return visible_colour(Image.fromarray(rgba, "RGBA"))


def seeded_noise(seeds: list[int], z_dim: int) -> torch.Tensor:
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(s))
                        for s in seeds])


def unseen_colour_prompts(data: Path, n: int, seed: int) -> list[str]:
    """Held-out prompts for products the model did learn: a train-split product in a palette
    colour never paired with it in training ("purple handbag" when only red and black ones were
    seen). The exact text never occurred in training; the product kind did."""
    from shared.catalog.augment import PALETTE, with_colour
    from shared.catalog.format import load_catalog

    seen: dict[str, set[str]] = {}
    base: dict[str, str] = {}
    for it in load_catalog(data, "train"):
        concept = it.concept or it.caption
        seen.setdefault(concept, set()).update(c for c in map(colour_of, it.captions) if c)
        plain = [c for c in it.captions if colour_of(c) is None]
        if plain and (concept not in base or len(plain[0]) < len(base[concept])):
            base[concept] = plain[0]
    rng = random.Random(seed)
    concepts = sorted(base)
    rng.shuffle(concepts)
    prompts = []
    for concept in concepts:
        fresh = [c for c in PALETTE if c not in seen[concept]]
        if fresh:
            prompts.append(with_colour(base[concept], rng.choice(fresh)))
        if len(prompts) == n:
            break
    return prompts


@dataclass
class GridReport:
    prompts: list[str]
    colour_prompts: int
    colour_match: float  # share of samples for colour prompts whose product reads as that colour
    d_match_minus_mismatch: float  # mean D logit, true prompt minus a shuffled prompt


@dataclass
class ExportReport:
    version: str
    held_out: GridReport  # test-split products (never seen)
    unseen_colours: GridReport  # train-split products in colours never seen with them


@torch.no_grad()
def grid(gen: Generator, disc: Discriminator | None, z_dim: int, prompts: list[str],
         embed: Embed, samples_per_prompt: int, title: str, out: Path) -> GridReport:
    """A captioned grid (noise per seed, exactly as the worker makes it) and what it measures."""
    cells = [p for p in prompts for _ in range(samples_per_prompt)]
    seeds = [1000 + i for i in range(len(cells))]
    emb = embed(cells).float()
    images = gen(seeded_noise(seeds, z_dim), emb)
    pil = to_pil(images)
    captioned_grid(pil, cells, columns=8, title=title).save(out, optimize=True)
    wanted = [colour_of(c) for c in cells]
    judged = [(w, product_colour(im)) for w, im in zip(wanted, pil, strict=True) if w]
    match = sum(w == got for w, got in judged) / len(judged) if judged else float("nan")
    gap = float("nan")
    if disc is not None:
        real = disc.score(images, emb)
        wrong = disc.score(images, emb.roll(samples_per_prompt, dims=0))
        gap = float((real - wrong).mean())
    return GridReport(prompts, len(judged), match, gap)


@torch.no_grad()
def export_model(run_dir: str | Path, out_dir: str | Path, data_dir: str | Path, embed: Embed,
                 n_prompts: int = 32, samples_per_prompt: int = 2, seed: int = 1,
                 weights_dtype: torch.dtype = torch.float16) -> ExportReport:
    run, out = Path(run_dir), Path(out_dir)
    bundle = load_model(run / "model")
    cfg, gen, disc = bundle.config, bundle.generator, bundle.discriminator
    out.mkdir(parents=True, exist_ok=True)
    options = json.loads((run / "options.json").read_text())
    meta = {**bundle.meta, "trained_steps": bundle.meta.get("total_steps", bundle.meta.get(
            "step")), "weights_dtype": str(weights_dtype).replace("torch.", ""),
            "train_images": options["train_images"], "batch_size": options["batch_size"],
            "source_run": str(run)}
    version = save_model(out, cfg, gen, disc, meta=meta, weights_dtype=weights_dtype)
    if (run / "loss.png").exists():
        shutil.copy(run / "loss.png", out / "loss.png")
    held_out = grid(gen, disc, cfg.z_dim, default_prompts(Path(data_dir), n_prompts, seed),
                    embed, samples_per_prompt, f"held-out (test split) products, never seen; "
                    f"{samples_per_prompt} seeds each; model {version}", out / "samples.png")
    unseen = grid(gen, disc, cfg.z_dim, unseen_colour_prompts(Path(data_dir), n_prompts, seed),
                  embed, samples_per_prompt, f"train-split products in colours never paired "
                  f"with them; {samples_per_prompt} seeds each; model {version}",
                  out / "samples_unseen_colours.png")
    return ExportReport(version, held_out, unseen)


def main(run_dir: Path, out_dir: Path, data: Path, n_prompts: int = 32) -> None:
    """python -m shared.training.export RUN_DIR OUT_DIR DATA_DIR"""
    from shared.text.encoder import TextEncoder

    report = export_model(run_dir, out_dir, data, TextEncoder(device="cpu").encode, n_prompts)
    print(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    import typer

    typer.run(main)
