"""Least privilege in Postgres: the worker role writes its tables and cannot alter the schema."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from shared.db.worker_role import drop_worker, grant_worker

pytestmark = pytest.mark.integration


def test_worker_role_can_write_tables_but_not_change_schema(pg_url: str) -> None:
    url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    role = f"adgen_worker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        grant_worker(admin, role)
        grant_worker(admin, role)  # idempotent
    try:
        with psycopg.connect(url) as conn:
            conn.execute(f"SET ROLE {role}")
            conn.execute("INSERT INTO campaigns (id, advertiser_id, name) VALUES ('c', 'a', 'n')")
            conn.execute("UPDATE campaigns SET name = 'm' WHERE id = 'c'")
            conn.execute("INSERT INTO rejected_events (reason, payload, payload_bytes) "
                         "VALUES ('r', 'p', 1)")  # sequence usage
            conn.execute("DELETE FROM campaigns WHERE id = 'c'")
            conn.rollback()
            for ddl in ("CREATE TABLE evil (x int)", "ALTER TABLE events ADD COLUMN evil int",
                        "DROP TABLE scores", "TRUNCATE creatives", "CREATE SCHEMA evil",
                        "ALTER TABLE creatives DROP COLUMN prompt",
                        "UPDATE alembic_version SET version_num = 'x'"):
                conn.execute(f"SET ROLE {role}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(ddl)
                conn.rollback()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            drop_worker(admin, role)
