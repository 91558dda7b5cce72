"""`adgen report` (an HTML report for analysts) and `adgen db grant-analyst` (a read-only role)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Only this campaign id.")
    ] = None,
    expiry: Annotated[
        int | None,
        typer.Option(
            "--expiry", help="Presigned image URL lifetime in seconds (default: settings)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N newest creatives per campaign.")
    ] = None,
    embed: Annotated[
        bool | None,
        typer.Option(
            "--embed/--link",
            help="Embed thumbnails as data: URIs, or only link the images "
            "(default: embed for the local store, link for S3).",
        ),
    ] = None,
    thumb_px: Annotated[int, typer.Option("--thumb-px", help="Thumbnail size (embed).")] = 320,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Include the plots.")] = True,
) -> None:
    """Write one self-contained HTML page: totals, plots, and every creative with its scores."""
    from rich.progress import Progress
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from shared.analytics.report import build_report
    from shared.config import get_settings
    from shared.storage import open_store

    settings = get_settings()
    store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("fetching images", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = build_report(
                db_url=settings.resolved_database_url,
                store=store,
                out=out,
                campaign=campaign,
                expiry_s=expiry or settings.presign_expiry_s,
                limit=limit,
                embed=embed,
                thumb_px=thumb_px,
                with_plots=plots,
                progress=step,
            )
        except (ValueError, LookupError) as exc:
            raise typer.BadParameter(str(exc)) from exc
        except (OperationalError, ProgrammingError) as exc:
            # One line, not a traceback: a missing view (migrations not applied) or a role
            # without SELECT on the analytics views (grant-analyst not run).
            first = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            console.print(
                f"[red]cannot read the analytics views ({first}); run `adgen db "
                "upgrade`, and `adgen db grant-analyst` for this role[/]"
            )
            raise typer.Exit(1) from exc
    console.print(
        f"wrote {summary.path} ({summary.bytes / 1024:.0f} KiB): "
        f"{summary.campaigns} campaigns, {summary.creatives_shown} of "
        f"{summary.creatives_total} creatives"
    )
    if summary.missing_images:
        console.print(f"[yellow]{summary.missing_images} images could not be read[/]")


def grant_analyst(
    role: Annotated[
        str, typer.Option("--role", help="Role name ([a-z_][a-z0-9_]*).")
    ] = "adgen_analyst",
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="ADGEN_ANALYST_PASSWORD",
            help="Makes the role LOGIN with this password (prefer the env var to the flag).",
        ),
    ] = None,
    raw_tables: Annotated[
        bool, typer.Option("--raw-tables/--views-only", help="Also allow SELECT on the raw tables.")
    ] = False,
) -> None:
    """Create or update a read-only analyst role: SELECT on the analytics views, nothing else."""
    import psycopg
    from sqlalchemy.engine import make_url

    from shared.analytics.roles import RoleError
    from shared.analytics.roles import grant_analyst as grant
    from shared.config import get_settings

    url = make_url(get_settings().resolved_database_url)
    if url.get_backend_name() != "postgresql":
        console.print(
            "[red]grant-analyst needs Postgres (ADGEN_DATABASE_URL); the embedded "
            "SQLite database has no roles[/]"
        )
        raise typer.Exit(2)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn) as conn:  # commits on a clean exit
            result = grant(conn, role, password=password, raw_tables=raw_tables)
    except RoleError as exc:
        raise typer.BadParameter(str(exc)) from exc
    verb = "created" if result.created else "updated"
    console.print(
        f"role {result.role} {verb} ({'LOGIN' if result.login else 'NOLOGIN'}); "
        f"SELECT on analytics.{{{', '.join(result.views)}}}"
        + (f" and raw tables {', '.join(result.raw_tables)}" if result.raw_tables else "")
    )
    if result.problems:
        for p in result.problems:
            console.print(f"[red]not read-only: {p}[/]")
        raise typer.Exit(1)
