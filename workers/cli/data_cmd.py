"""`adgen data ...`: build a training catalog from the bundled emoji artwork."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Build and inspect product catalogs.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keep `data` a command group even while it has a single command."""


@app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", help="Dir to write images/ + metadata.jsonl.")],
    size: Annotated[int, typer.Option("--size", help="Side of the square images (px).")] = 64,
    limit: Annotated[int | None, typer.Option("--limit", help="First N concepts only.")] = None,
    augment: Annotated[
        bool, typer.Option("--augment/--no-augment", help="Add recoloured/jittered copies.")
    ] = True,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the augmentations.")] = 0,
) -> None:
    """Render the emoji product concepts into a catalog directory."""
    from shared.catalog.builder import build_catalog
    from shared.catalog.concepts import MissingSystemData

    try:
        summary = build_catalog(
            out, size=size, limit=limit, augment=augment, seed=seed, progress=True
        )
    except MissingSystemData as exc:  # one line naming the package, not a traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(summary.describe())


@app.command("concept-index")
def concept_index(
    out: Annotated[Path | None, typer.Option(help="Where to write the index")] = None,
) -> None:
    """Embed the catalog's concept names in every language the title reader matches against
    (models/text/concept_names.safetensors; docs/multilingual.md)."""
    from shared.text.concept_index import INDEX_PATH, build_index, save_index

    target = out or INDEX_PATH
    index = build_index()
    save_index(index, target)
    typer.echo(f"wrote {target}: {len(index.texts)} names of {len(index.concepts)} concepts")
