"""`adgen data ...`: build a training catalog from the bundled emoji artwork."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Build and inspect product catalogs.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keep `data` a command group even while it has a single command."""


@app.command("build")
def build(
    out: Path = typer.Option(..., "--out", help="Directory to write images/ and metadata.jsonl."),
    size: int = typer.Option(64, "--size", help="Side of the square images, in pixels."),
    limit: int | None = typer.Option(None, "--limit", help="Use only the first N concepts."),
    augment: bool = typer.Option(True, "--augment/--no-augment", help="Add recoloured copies."),
    seed: int = typer.Option(0, "--seed", help="Seed for the augmentations."),
) -> None:
    """Render the emoji product concepts into a catalog directory."""
    from shared.catalog.builder import build_catalog

    summary = build_catalog(out, size=size, limit=limit, augment=augment, seed=seed, progress=True)
    typer.echo(summary.describe())
