"""The command line is one Typer app: every entry point is an `adgen` command (a rename or a
new entry point is a deliberate change here, not a new `python -m shared...` module)."""

from __future__ import annotations

import typer
from typer.main import get_command

from workers.cli.main import app


def _names(group: object, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, cmd in getattr(group, "commands", {}).items():
        full = f"{prefix}{name}"
        out.add(full)
        out |= _names(cmd, full + " ")
    return out


def test_every_entry_point_is_an_adgen_command() -> None:
    names = _names(get_command(app))
    expected = {
        "demo",
        "worker",
        "publish",
        "status",
        "workers status",
        "db upgrade",
        "db grant-analyst",
        "db grant-worker",
        "data build",
        "data concept-index",
        "train",
        "eval train",
        "eval run",
        "eval kinds",
        "eval titles",
        "model export",
        "model bank",
        "compose sheets",
        "report",
        "catalog upload",
        "feedback ingest",
        "select",
        "simulate",
        "web",
        "users add",
    }
    assert expected <= names, sorted(expected - names)


def test_no_module_in_shared_is_a_script() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "shared"
    scripts = [p for p in root.rglob("*.py") if '__name__ == "__main__"' in p.read_text()]
    assert scripts == []
    assert isinstance(app, typer.Typer)
