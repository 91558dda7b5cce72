"""`adgen catalog ...`: put the shop's product photos where events can reference them."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The shop's product photos (object store, `catalog/` prefix).", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Keep `catalog` a command group even while it has a single command."""


@app.command("upload")
def upload(
    paths: Annotated[list[Path], typer.Argument(help="Photo files and/or directories")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file")] = False,
) -> None:
    """Validate each photo and store it under catalog/<sha256>/<name>; print the keys to put in
    an event's `products[].photo`. Exit code 2 if any file was rejected."""
    from shared.config import get_settings
    from shared.photos.load import PhotoLimits
    from shared.photos.upload import upload_photos
    from shared.storage import open_store

    settings = get_settings()
    store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
    store.ensure_bucket()
    stored = rejected = 0
    for result in upload_photos(store, paths, PhotoLimits.from_settings(settings)):
        if result.key is None:
            rejected += 1
        else:
            stored += 1
        if as_json:
            typer.echo(json.dumps(asdict(result)))
        elif result.key is None:
            typer.echo(f"rejected {result.path}: {result.reason}", err=True)
        else:
            w, h = result.size or (0, 0)
            extra = "; ".join(
                ("already stored", *result.notes) if result.already_there else result.notes
            )
            typer.echo(
                f"{result.key}\t{result.path} ({result.format} {w}x{h}"
                f"{'; ' + extra if extra else ''})"
            )
    summary = f"{stored} stored, {rejected} rejected"
    if as_json:
        typer.echo(json.dumps({"stored": stored, "rejected": rejected}))
    else:
        typer.echo(summary, err=True)
    if rejected or not stored:
        raise typer.Exit(2)
