"""`adgen web` (the review app) and `adgen users ...` (its accounts)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)
users_app = typer.Typer(help="Review app accounts (viewer, reviewer, admin).", no_args_is_help=True)


def web(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8088,
    upgrade: Annotated[
        bool,
        typer.Option(
            help="Apply migrations first (the embedded default does; pass --no-upgrade when a "
            "one-shot `adgen db upgrade` owns the schema)"
        ),
    ] = True,
) -> None:
    """Serve the review app: queue, decisions, performance, users and rules."""
    import uvicorn

    from shared.config import get_settings
    from shared.db.migrate import upgrade as db_upgrade
    from shared.web.app import create_app
    from shared.web.secret import SecretMissing

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    if upgrade:
        db_upgrade(settings.resolved_database_url)
    try:
        app = create_app(settings)
    except SecretMissing as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(
        f"review app on http://{host}:{port}  (create an account with "
        "`adgen users add NAME --role admin`)"
    )
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, _ . -")],
    role: Annotated[str, typer.Option(help="viewer | reviewer | admin")] = "reviewer",
) -> None:
    """Add an account; the password is prompted for (or read from the first line of stdin)."""
    from shared.config import get_settings
    from shared.db.engine import session_scope
    from shared.review.users import UserError, add_user

    password = _read_password()
    try:
        with session_scope(get_settings().resolved_database_url) as s:
            add_user(session=s, username=username, password=password, role=role)
    except UserError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"added {username} ({role})")


@users_app.command("list")
def users_list() -> None:
    """Accounts and their roles."""
    from shared.config import get_settings
    from shared.db.engine import session_scope
    from shared.review.users import list_users

    with session_scope(get_settings().resolved_database_url) as s:
        for u in list_users(session=s):
            print(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")
