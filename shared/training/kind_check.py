"""Measure a model's grids at a larger scale than the model card shows them.

    python -m shared.training.kind_check MODEL_DIR DATA_DIR [--prompts 128] [--seeds 2]

Same measures as the export grids (colour match, D gap, kind accuracy with the colour word held
fixed, real-picture ceiling) over more prompts, so two models can be told apart: with 32
prompts and near-identical seeds one product more or less moves kind accuracy by 3 points.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from shared.eval.model import Evaluator
from shared.gan.checkpoint import load_model
from shared.training.data import Embed
from shared.training.export import grid, unseen_colour_prompts
from shared.training.loop import default_prompts


def measure(model_dir: Path, data: Path, embed: Embed, evaluator: Evaluator, prompts: int = 128,
            seeds: int = 2, seed: int = 1) -> dict[str, Any]:
    bundle = load_model(model_dir)
    sets = {"held_out": default_prompts(data, prompts, seed),
            "unseen_colours": unseen_colour_prompts(data, prompts, seed)}
    out: dict[str, Any] = {"model": str(model_dir), "version": bundle.version}
    with tempfile.TemporaryDirectory() as tmp:
        for name, chosen in sets.items():
            report = asdict(grid(bundle.generator, bundle.discriminator, bundle.config.z_dim,
                                 chosen, embed, seeds, name, Path(tmp) / f"{name}.png",
                                 evaluator, data))
            report["prompts"] = len(chosen)
            out[name] = report
    return out


def main(model_dir: Path, data: Path, prompts: int = 128, seeds: int = 2, seed: int = 1,
         evaluator: Path = Path("models/evaluator")) -> None:
    from shared.eval.model import load_evaluator
    from shared.text.encoder import TextEncoder

    print(json.dumps(measure(model_dir, data, TextEncoder(device="cpu").encode,
                             load_evaluator(evaluator), prompts, seeds, seed), indent=2))


if __name__ == "__main__":
    import typer

    typer.run(main)
