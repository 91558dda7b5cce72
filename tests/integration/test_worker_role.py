"""Least privilege in Postgres: the worker role writes its tables and cannot alter the schema."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import psycopg
import pytest

from shared.config import get_settings
from shared.db.engine import dispose_engines
from shared.db.worker_role import drop_worker, grant_worker
from shared.publisher import Publisher
from shared.samples import sample_events
from tests.conftest import set_env
from tests.integration.conftest import creative_count, wait_terminal
from tests.support.services import WorkerProcess

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
            conn.execute(
                "INSERT INTO rejected_events (reason, payload, payload_bytes) VALUES ('r', 'p', 1)"
            )  # sequence usage
            conn.execute("DELETE FROM campaigns WHERE id = 'c'")
            conn.rollback()
            for ddl in (
                "CREATE TABLE evil (x int)",
                "ALTER TABLE events ADD COLUMN evil int",
                "DROP TABLE scores",
                "TRUNCATE creatives",
                "CREATE SCHEMA evil",
                "ALTER TABLE creatives DROP COLUMN prompt",
                "UPDATE alembic_version SET version_num = 'x'",
            ):
                conn.execute(f"SET ROLE {role}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(ddl)
                conn.rollback()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            drop_worker(admin, role)


def test_a_real_worker_runs_as_the_worker_role(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    """The worker connects with the least-privilege role's own login and still finishes,
    rejects and records events (creatives, scores, rejected_events and its sequence)."""
    url = stack["ADGEN_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    role = f"adgen_worker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        grant_worker(admin, role, password="worker-secret-1")
    try:
        host_db = url.split("@", 1)[1]
        set_env(
            monkeypatch, stack, ADGEN_DATABASE_URL=f"postgresql://{role}:worker-secret-1@{host_db}"
        )
        worker = worker_factory(stack)
        s = get_settings()
        ev = sample_events("role")[0]
        bad = json.loads(ev.canonical_json())
        bad.update(event_id="role-bad", type="billboard")
        pub = Publisher(s)
        pub.publish(ev)
        pub.publish(json.dumps(bad), validate=False)
        statuses = wait_terminal(url, [ev.event_id, "role-bad"])
        assert statuses == {ev.event_id: "done", "role-bad": "rejected"}
        assert creative_count(url, event_id=ev.event_id) == ev.creative_count
        with psycopg.connect(url) as conn:
            users = {
                u
                for (u,) in conn.execute(
                    "SELECT usename FROM pg_stat_activity WHERE datname = current_database()"
                )
            }
        assert role in users, users
        assert "permission denied" not in worker.log()
    finally:
        dispose_engines()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            drop_worker(admin, role)
