"""Why a frozen worker blocked the others, and that the event path no longer can (real Postgres).

A statement the server has run inside an unfinished pipeline (no Sync yet) keeps its locks in a
state that no timeout of PostgreSQL 15 ends; a client that stops between synced statements is
ended by `idle_in_transaction_session_timeout`. The event path's transactions must therefore
never enter pipeline mode (psycopg's `executemany` would)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from shared.db.cursor import SyncedCursor
from shared.db.engine import dispose_engines, get_engine, session_scope
from shared.db.group_commit import commit_events
from shared.db.ledger import ClaimRequest, SqlLedger
from shared.db.models import Event
from shared.events import Rejection
from shared.records import EventResult, ModelInfo
from shared.samples import sample_events

pytestmark = pytest.mark.integration


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every time psycopg enters pipeline mode, by the statement's caller."""
    entered: list[str] = []
    real = psycopg.Connection._pipeline_nolock

    def spy(self: psycopg.Connection[Any], *a: Any, **k: Any) -> Any:
        entered.append("pipeline")
        return real(self, *a, **k)

    monkeypatch.setattr(psycopg.Connection, "_pipeline_nolock", spy)
    yield entered
    dispose_engines()


def _held_mid_pipeline(url: str, opts: str) -> bool:
    """Insert a row in a pipeline that never syncs, wait past the timeouts, and ask whether a
    second client can insert the same key (True: the first one still blocks it)."""
    a = psycopg.connect(_libpq(url), options=opts)
    b = psycopg.connect(_libpq(url), options="-c lock_timeout=1000")
    try:
        a.execute("CREATE TABLE IF NOT EXISTS pipe_probe (id text PRIMARY KEY)")
        a.commit()
        with a.pipeline():
            a.execute("INSERT INTO pipe_probe VALUES ('x') ON CONFLICT DO NOTHING")
            a.pgconn.flush()
            time.sleep(3)  # the client "freezes" here, before the pipeline's Sync
            try:
                b.execute("INSERT INTO pipe_probe VALUES ('x') ON CONFLICT DO NOTHING")
                b.commit()
                return False
            except psycopg.errors.LockNotAvailable:
                return True
    finally:
        b.close()
        a.close()


def test_the_server_keeps_locks_of_a_client_stopped_mid_pipeline(pg_url: str) -> None:
    """The defect's cause, kept as a canary: if this ever fails (a server with
    `transaction_timeout`), the cursor below is no longer needed."""
    opts = "-c idle_in_transaction_session_timeout=1000 -c statement_timeout=1000"
    assert _held_mid_pipeline(pg_url, opts)


def test_claims_commits_and_rejections_never_enter_pipeline_mode(
    pg_url: str, pipelines: list[str]
) -> None:
    ledger = SqlLedger(pg_url, worker="w1")
    events = sample_events("np", count=2)
    first = ledger.claim_many([ClaimRequest(e, 3) for e in events])  # new campaigns
    assert all(not isinstance(r, BaseException) and r.attempt == 1 for r in first)
    with session_scope(pg_url) as s:
        for e in events:
            s.get(Event, e.event_id).status = "processing"  # type: ignore[union-attr]
    again = ledger.claim_many([ClaimRequest(e, 3) for e in events])  # redeliveries, locked
    assert all(not isinstance(r, BaseException) and r.attempt == 2 for r in again)
    model = ModelInfo("sha256:np", "np", "/np", {}, False)
    results = [
        EventResult(
            e, model, [], [], generate_ms=1.0, started=time.perf_counter(), record_model=True
        )
        for e in events
    ]
    assert commit_events(pg_url, results) == [None] * len(events)
    ledger.reject(Rejection(reason="bad", event_id="np-bad", payload="{}"), payload_bytes=2)
    assert pipelines == []
    with session_scope(pg_url) as s:
        done = s.execute(text("SELECT count(*) FROM events WHERE status = 'done'")).scalar_one()
        finished = s.get(Event, events[0].event_id)
    assert done == len(events)
    assert finished is not None and finished.finished_at is not None
    assert finished.finished_at <= datetime.now(UTC) and finished.processing_ms is not None


def test_the_engine_cursor_syncs_every_statement_and_counts_rows(
    pg_url: str, pipelines: list[str]
) -> None:
    engine = get_engine(pg_url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        cur = raw.cursor()
        assert isinstance(cur, SyncedCursor)
        cur.execute("CREATE TEMP TABLE many (k int PRIMARY KEY, v int)")
        cur.executemany("INSERT INTO many VALUES (%s, 0)", [(i,) for i in range(5)])
        cur.executemany("UPDATE many SET v = 1 WHERE k = %s", [(i,) for i in (0, 2, 4, 9)])
        assert cur.rowcount == 3  # the sum, as psycopg's own executemany reports it
        cur.execute("SELECT count(*) FROM many WHERE v = 1")
        assert cur.fetchone() == (3,) and cur.rowcount == 1
    assert pipelines == []
