"""The `adgen` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from workers.cli.catalog_cmd import app as catalog_app
from workers.cli.compose_cmd import app as compose_app
from workers.cli.data_cmd import app as data_app
from workers.cli.eval_cmd import app as eval_app
from workers.cli.feedback_cmd import app as feedback_app
from workers.cli.feedback_cmd import select_cmd, simulate_cmd
from workers.cli.model_cmd import app as model_app
from workers.cli.publish_cmd import publish
from workers.cli.report_cmd import grant_analyst, report
from workers.cli.status_cmd import status, workers_status
from workers.cli.train_cmd import train
from workers.cli.web_cmd import users_app, web

app = typer.Typer(
    help="AdGen: personalised ad creatives from campaign events.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
workers_app = typer.Typer(help="Inspect running workers.", no_args_is_help=True)
app.add_typer(workers_app, name="workers")
app.add_typer(data_app, name="data")
app.add_typer(compose_app, name="compose")
app.add_typer(catalog_app, name="catalog")
app.add_typer(eval_app, name="eval")
app.add_typer(model_app, name="model")
app.command("train")(train)
app.command("publish")(publish)
app.command("report")(report)
app.command("web")(web)
app.add_typer(users_app, name="users")
app.add_typer(feedback_app, name="feedback")
app.command("select")(select_cmd)
app.command("simulate")(simulate_cmd)
app.command("status")(status)
workers_app.command("status")(workers_status)
db_app.command("grant-analyst")(grant_analyst)

console = Console(width=None if sys.stdout.isatty() else 160)


@app.command()
def demo(
    out: Annotated[
        Path | None, typer.Option(help="Contact sheet image (.png/.jpg/.webp), or a directory")
    ] = None,
    count: Annotated[int, typer.Option(help="Variants per event")] = 1,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the events")] = 600,
) -> None:
    """Run the whole pipeline on sample events (embedded defaults: no servers needed)."""
    from workers.demo import contact_sheet_path, run_demo

    sheet = contact_sheet_path(out) if out is not None else None  # checked before the run
    result = run_demo(out=sheet, timeout_s=timeout, count=count, console=console)
    bad = {k: v for k, v in result.statuses.items() if v != "done"}
    if bad or len(result.statuses) < len(result.events):
        console.print(f"[red]not all events completed: {bad}[/]")
        raise typer.Exit(1)


@app.command()
def worker(
    devices: Annotated[str, typer.Option(help="cpu | all | CUDA indices like 0,1")] = "cpu",
    per_device: Annotated[int, typer.Option(help="Worker processes per device")] = 1,
    role: Annotated[
        str,
        typer.Option(help="generate (device workers) | render (CPU stage, ADGEN_RENDER_QUEUE=1)"),
    ] = "generate",
    processes: Annotated[int, typer.Option(help="render role: pool processes")] = 2,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """Start one pinned Celery worker process per device (supervised, warm shutdown on TERM)."""
    from workers.launcher import Supervisor, render_specs, worker_specs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if role not in ("generate", "render"):
            raise ValueError("--role must be generate or render")
        specs = render_specs(processes) if role == "render" else worker_specs(devices, per_device)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    raise typer.Exit(Supervisor(specs, loglevel).run())


@db_app.command("grant-worker")
def grant_worker_cmd(
    role: Annotated[str, typer.Option(help="Role the workers connect as")] = "adgen_worker",
    password: Annotated[
        str | None,
        typer.Option(
            envvar="ADGEN_WORKER_DB_PASSWORD", help="Give the role LOGIN with this password"
        ),
    ] = None,
) -> None:
    """Create or update the workers' role: read/write AdGen's tables, no schema changes."""
    import psycopg

    from shared.config import get_settings
    from shared.db.worker_role import grant_worker

    url = get_settings().resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
    if not url.startswith("postgresql://"):
        raise typer.BadParameter("grant-worker needs a PostgreSQL ADGEN_DATABASE_URL")
    with psycopg.connect(url) as conn:
        grant_worker(conn, role, password=password)
    console.print(f"role {role} can read/write AdGen's tables and cannot alter the schema")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (a one-shot step; workers never create tables)."""
    from shared.config import get_settings
    from shared.db.migrate import upgrade
    from shared.storage import redact_url

    url = get_settings().resolved_database_url
    upgrade(url, revision)
    console.print(f"database at {redact_url(url)} upgraded to {revision}")


if __name__ == "__main__":
    app()
