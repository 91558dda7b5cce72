"""analytics: image_source (generated | photo | mixed) on creatives and scores

Revision ID: 0006
Revises: 0003 (migrations were written in parallel and chained 0002 → 0005 → 0004 → 0003 → 0006)
Create Date: 2026-11-30

A creative may show the shop's own photo instead of a generated image (shared/photos). The
worker records that in `creatives.details -> 'image_source'`; these views expose it as a column
so analysts can separate photo creatives from generated ones. Creatives of photos only carry no
model version and no model scores (the scorer rates generated images only), so
`analytics.model_summary` and every model metric already leave them out; this revision only adds
the column (rows written before it read as 'generated').

Postgres only, like 0002: a no-op on SQLite. The two views are replaced in place (the new
column is appended, which `CREATE OR REPLACE VIEW` allows), so the views built on them and the
analyst's grants stay as they are.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMAGE_SOURCE = "COALESCE(c.details ->> 'image_source', 'generated') AS image_source"


def _analytics_0002() -> ModuleType:
    """0002's view definitions, so these are those views plus one column (not a copy)."""
    spec = importlib.util.spec_from_file_location(
        "adgen_migration_0002", Path(__file__).with_name("0002_analytics.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _with_column(ddl: str, last_line: str) -> str:
    """`ddl` as CREATE OR REPLACE, with image_source after the select list's `last_line`."""
    head, tail = last_line.split("\n")
    out = ddl.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1).replace(
        last_line, f"{head},\n    {IMAGE_SOURCE}\n{tail}", 1
    )
    assert IMAGE_SOURCE in out, "0002's view text changed; update this migration"
    return out


def _views() -> tuple[str, str]:
    views = dict(_analytics_0002().VIEWS)
    return (
        _with_column(views["creatives"], "    c.created_at\nFROM public.creatives c"),
        _with_column(views["scores"], "sc.value, sc.created_at\nFROM public.scores sc"),
    )


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _is_postgres():
        return
    for ddl in _views():
        op.execute(ddl)


def downgrade() -> None:
    # A view cannot lose a column in place: rebuild 0002's views (they depend on each other).
    if not _is_postgres():
        return
    views = _analytics_0002().VIEWS
    for name, _ddl in reversed(views):
        op.execute(f"DROP VIEW IF EXISTS analytics.{name}")
    for _name, ddl in views:
        op.execute(ddl)
