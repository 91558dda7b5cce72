"""`adgen users add|list` on the embedded defaults."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shared.config import get_settings
from shared.db.engine import dispose_engines, get_engine
from shared.db.migrate import upgrade
from shared.review.users import authenticate
from workers.cli.main import app


def test_users_add_reads_the_password_from_stdin(adgen_env: dict[str, str]) -> None:
    url = get_settings().resolved_database_url
    upgrade(url)
    runner = CliRunner()
    result = runner.invoke(
        app, ["users", "add", "alice", "--role", "admin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    assert "a long password" not in result.output
    assert runner.invoke(app, ["users", "add", "alice"], input="another pw 123\n").exit_code == 2
    assert (
        runner.invoke(
            app, ["users", "add", "bob", "--role", "root"], input="a long password\n"
        ).exit_code
        == 2
    )
    assert runner.invoke(app, ["users", "add", "bob"], input="short\n").exit_code == 2
    listing = runner.invoke(app, ["users", "list"])
    assert listing.output.split() == ["alice", "admin", "active"]
    with Session(get_engine(url)) as s:
        user = authenticate(session=s, username="alice", password="a long password")
        assert user is not None and user.role == "admin"
        assert authenticate(session=s, username="alice", password="a long passworD") is None
    dispose_engines()
