"""Turn a training run into a small, documented model directory (the committed default model).

Writes fp16 safetensors + config/meta, a captioned grid for held-out prompts, the loss plot and
measured numbers the model card quotes.  Noise is made per sample from its seed exactly as the
worker does, so anyone can regenerate the grid.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import visible_colour
from shared.gan.checkpoint import load_model, save_model
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


@dataclass
class ExportReport:
    prompts: list[str]
    colour_prompts: int
    colour_match: float  # share of samples for colour prompts whose product reads as that colour
    d_match_minus_mismatch: float  # mean D logit, true prompt minus a shuffled prompt
    version: str


@torch.no_grad()
def export_model(run_dir: str | Path, out_dir: str | Path, data_dir: str | Path, embed: Embed,
                 n_prompts: int = 32, samples_per_prompt: int = 2, seed: int = 1,
                 weights_dtype: torch.dtype = torch.float16) -> ExportReport:
    run, out = Path(run_dir), Path(out_dir)
    bundle = load_model(run / "model")
    cfg, gen, disc = bundle.config, bundle.generator, bundle.discriminator
    prompts = default_prompts(Path(data_dir), n_prompts, seed)  # test split first
    cells = [p for p in prompts for _ in range(samples_per_prompt)]
    seeds = [1000 + i for i in range(len(cells))]
    emb = embed(cells).float()
    images = gen(seeded_noise(seeds, cfg.z_dim), emb)
    pil = to_pil(images)
    out.mkdir(parents=True, exist_ok=True)
    options = json.loads((run / "options.json").read_text())
    meta = {**bundle.meta, "trained_steps": bundle.meta.get("step"), "weights_dtype":
            str(weights_dtype).replace("torch.", ""), "train_images": options["train_images"],
            "batch_size": options["batch_size"], "source_run": str(run)}
    version = save_model(out, cfg, gen, disc, meta=meta, weights_dtype=weights_dtype)
    title = f"held-out (test split) prompts, {samples_per_prompt} seeds each; model {version}"
    captioned_grid(pil, cells, columns=8, title=title).save(out / "samples.png", optimize=True)
    if (run / "loss.png").exists():
        shutil.copy(run / "loss.png", out / "loss.png")

    wanted = [colour_of(c) for c in cells]
    judged = [(w, product_colour(im)) for w, im in zip(wanted, pil, strict=True) if w]
    match = sum(w == got for w, got in judged) / len(judged) if judged else float("nan")
    gap = float("nan")
    if disc is not None:
        real = disc.score(images, emb)
        wrong = disc.score(images, emb.roll(samples_per_prompt, dims=0))
        gap = float((real - wrong).mean())
    return ExportReport(prompts, len(judged), match, gap, version)


def main(run_dir: Path, out_dir: Path, data: Path, n_prompts: int = 32) -> None:
    """python -m shared.training.export RUN_DIR OUT_DIR DATA_DIR"""
    from shared.text.encoder import TextEncoder

    report = export_model(run_dir, out_dir, data, TextEncoder(device="cpu").encode, n_prompts)
    print(json.dumps(report.__dict__, indent=2))


if __name__ == "__main__":
    import typer

    typer.run(main)
