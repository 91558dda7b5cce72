"""The worker path without Celery or servers: SQLite, a local object store, the tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.db.migrate import upgrade
from shared.generation import GeneratorRuntime
from shared.pipeline import Context
from shared.storage import open_store


@pytest.fixture
def ctx(adgen_env: dict[str, str], tmp_path: Path, tiny_runtime: GeneratorRuntime) -> Context:
    """A pipeline context; dead letters are collected in `ctx.dead`."""
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(db)
    store = open_store((tmp_path / "objects").as_uri())
    store.ensure_bucket()
    dead: list[dict[str, Any]] = []
    c = Context.local(db, store, tiny_runtime, worker="test", dead_letter=dead.append)
    c.dead = dead  # type: ignore[attr-defined]
    return c
