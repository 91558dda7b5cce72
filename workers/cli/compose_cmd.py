"""`adgen compose ...`: contact sheets of the ad layouts, rendered from synthetic products."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Ad composition previews.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keep `compose` a command group even while it has a single command."""


@app.command("sheets")
def sheets(
    out: Annotated[Path, typer.Option(help="Every ad type x size x style")] = Path(
        "docs/images/compose_contact_sheet.png"
    ),
    segments_out: Annotated[
        Path | None, typer.Option(help="Also the four-audience comparison")
    ] = None,
    cjk_out: Annotated[
        Path | None, typer.Option(help="Also the Chinese/Japanese sheet (needs a CJK font)")
    ] = None,
    only_cjk: Annotated[bool, typer.Option(help="Skip the main contact sheet")] = False,
) -> None:
    """Render the composition contact sheets the docs show."""
    from shared.compose.preview import cjk_sheet, contact_sheet, save_sheet, segments_sheet

    jobs = [(out, contact_sheet)] if not only_cjk else []
    jobs += [(p, f) for p, f in ((segments_out, segments_sheet), (cjk_out, cjk_sheet)) if p]
    for path, make in jobs:
        typer.echo(f"wrote {path} ({save_sheet(make(), path) // 1024} KiB)")
