"""`adgen status EVENT_ID` and `adgen workers status`: what an operator asks first.

Output is plain text: event ids, errors and worker names are data, never Rich markup.
Exit codes: 0 found; 1 no such event / no worker replied / the database or broker is unreachable.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(
    highlight=False, emoji=False, markup=False, width=None if sys.stdout.isatty() else 160
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def status(
    event_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Show an event's status, attempts, errors and creatives."""
    from sqlalchemy.exc import SQLAlchemyError

    from shared.config import get_settings
    from shared.db import repo
    from shared.db.engine import session_scope
    from shared.storage import redact_url

    url = get_settings().resolved_database_url
    try:
        with session_scope(url) as s:
            info = repo.event_summary(session=s, event_id=event_id)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc.__class__.__name__
        raise _fail(f"cannot read the database at {redact_url(url)}: {cause}") from None
    if info is None:
        raise _fail(f"no event {event_id!r}")
    if as_json:
        typer.echo(json.dumps(info, default=str, indent=2))
        return
    for k, v in info.items():
        if k != "objects":
            console.print(f"{k:20} {v}")
    for key in info["objects"]:
        console.print(f"  {key}")


def workers_status(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for replies")] = 2.0,
) -> None:
    """Workers, their devices and queues, and the events they are processing now."""
    from kombu.exceptions import OperationalError

    from shared.config import get_settings
    from shared.storage import redact_url
    from workers.inspect import collect

    try:
        infos = collect(timeout)
    except (OperationalError, OSError) as exc:
        url = redact_url(get_settings().resolved_broker_url)
        raise _fail(f"cannot reach the broker at {url}: {exc}") from None
    if not infos:
        raise _fail("no workers replied")
    table = Table(title="AdGen workers")
    for col in ("worker", "device", "pool", "queues", "active events", "reserved", "processed"):
        table.add_column(col)
    for w in infos:
        cells = (
            w.name,
            w.device,
            f"{w.pool} x{w.concurrency}",
            ", ".join(w.queues),
            ", ".join(w.active) or "idle",
            str(w.reserved),
            str(w.processed),
        )
        table.add_row(*(Text(c) for c in cells))
    console.print(table)
