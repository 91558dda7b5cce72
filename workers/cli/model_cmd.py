"""`adgen model ...`: turn a training run into a committed model directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Generator models: export a run, build an exemplar model's bank (docs/gan.md).",
    no_args_is_help=True,
)


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


@app.command("bank")
def bank(
    model_dir: Annotated[Path, typer.Argument(help="An exemplar model dir (g_arch exemplar)")],
    data: Annotated[Path, typer.Argument(help="Catalog dir (images/ + metadata.jsonl)")],
    split: Annotated[
        str, typer.Option(help='Catalog split to retrieve from: "all", or train/val/test')
    ] = "all",
) -> None:
    """Build the catalog an exemplar model retrieves from (MODEL_DIR/bank.safetensors): a
    shop's own catalog, or the default catalog's train split to reproduce the model card."""
    from shared.catalog.format import load_catalog
    from shared.gan.checkpoint import save_bank
    from shared.gan.config import GANConfig
    from shared.gan.exemplars import build_exemplar_bank
    from shared.gan.generator import bank_tensors
    from shared.text.encoder import TextEncoder

    cfg = GANConfig.load(model_dir / "config.json")
    if cfg.g_arch != "exemplar":
        raise typer.BadParameter(f"{model_dir} draws without exemplars (g_arch {cfg.g_arch})")
    items = load_catalog(data, None if split == "all" else split)
    if not items:
        raise typer.BadParameter(f"no pictures in {data} (split {split})")
    built = build_exemplar_bank(
        items,
        TextEncoder(device="cpu").encode,
        cfg.image_size,
        cfg.exemplar_size,
        cfg.exemplar_per_concept,
        cfg.exemplar_map,
    )
    version = save_bank(model_dir, bank_tensors(built))
    typer.echo(
        f"{model_dir / 'bank.safetensors'}: {len(built.concepts)} products, "
        f"{len(built.maps)} pictures, {len(built.keys)} retrieval rows; model version {version}"
    )
