"""The claim: one statement for a first delivery, the full locked path for every other case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from shared.db.engine import get_engine, session_scope
from shared.db.ledger import SqlLedger
from shared.db.migrate import upgrade
from shared.db.models import Campaign, Event
from shared.db.repo import Claim
from shared.events import Rejection
from shared.samples import sample_events


@pytest.fixture
def ledger(tmp_path: Path) -> SqlLedger:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(db)
    return SqlLedger(db, worker="w1")


@contextmanager
def statements(db_url: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.split()[0].upper() in ("INSERT", "UPDATE", "SELECT", "DELETE"):
            seen.append(sql.split()[0].upper())

    engine = get_engine(db_url)
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


def test_first_delivery_of_a_known_campaign_is_one_insert(ledger: SqlLedger) -> None:
    first, second = sample_events("one")[:2]  # same campaign
    with statements(ledger.db_url) as seen:
        assert ledger.claim(first, max_attempts=3).claim is Claim.PROCESS
    assert seen == ["INSERT", "INSERT"]  # the campaign, then the claim
    with statements(ledger.db_url) as seen:
        result = ledger.claim(second, max_attempts=3)
    assert seen == ["INSERT"]
    assert (result.claim, result.attempt) == (Claim.PROCESS, 1)
    with session_scope(ledger.db_url) as s:
        row = s.get(Event, second.event_id)
        assert row is not None
        assert (row.status, row.attempts, row.worker) == ("processing", 1, "w1")
        assert row.started_at is not None and row.payload_sha256 == second.payload_hash()


def test_redelivery_takes_the_locked_path(ledger: SqlLedger) -> None:
    ev = sample_events("re")[0]
    ledger.claim(ev, max_attempts=3)
    again = ledger.claim(ev, max_attempts=3)
    assert (again.claim, again.attempt) == (Claim.PROCESS, 2)
    assert ledger.claim(ev, max_attempts=2).claim is Claim.GIVE_UP
    changed = ev.model_copy(update={"products": ev.products[::-1] + ev.products[:1]})
    assert ledger.claim(changed, max_attempts=9).claim is Claim.CONFLICT


def test_a_placeholder_is_taken_over(ledger: SqlLedger) -> None:
    ev = sample_events("ph")[0]
    ledger.reject(
        Rejection(reason="bad signature", event_id=ev.event_id, payload="{}"), payload_bytes=2
    )
    result = ledger.claim(ev, max_attempts=3)
    assert (result.claim, result.attempt) == (Claim.PROCESS, 1)


def test_no_attempts_allowed_gives_up_at_once(ledger: SqlLedger) -> None:
    result = ledger.claim(sample_events("zero")[0], max_attempts=0)
    assert result.claim is Claim.GIVE_UP


def test_a_forgotten_campaign_row_is_written_again(ledger: SqlLedger) -> None:
    first, second = sample_events("gone")[:2]
    ledger.claim(first, max_attempts=3)
    with session_scope(ledger.db_url) as s:  # the database is reset under the worker
        # (SQLite enforces the foreign key here too: shared/db/engine.py turns it on)
        s.query(Event).delete()
        s.query(Campaign).delete()
    assert ledger.claim(second, max_attempts=3).claim is Claim.PROCESS
    with session_scope(ledger.db_url) as s:
        assert s.get(Campaign, second.campaign.id) is not None
