"""`adgen model ...`: turn a training run into a committed model directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Generator models: export a run (docs/gan.md).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keep `model` a command group even while it has a single command."""


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="Training run (checkpoints, options.json)")],
    out_dir: Annotated[Path, typer.Argument(help="Model dir to write (e.g. models/default)")],
    data: Annotated[Path, typer.Argument(help="The run's catalog dir")],
    prompts: Annotated[int, typer.Option(help="Prompts per sample grid")] = 32,
    evaluator: Annotated[Path, typer.Option(help="Evaluator dir")] = Path("models/evaluator"),
) -> None:
    """EMA generator + discriminator as safetensors with config.json, sample grids with
    their measures, and the model card."""
    import json
    from dataclasses import asdict

    from shared.eval.model import has_evaluator, load_evaluator
    from shared.text.encoder import TextEncoder
    from shared.training.export import export_model

    judge = load_evaluator(evaluator) if has_evaluator(evaluator) else None
    report = export_model(
        run_dir, out_dir, data, TextEncoder(device="cpu").encode, prompts, evaluator=judge
    )
    typer.echo(json.dumps(asdict(report), indent=2))
