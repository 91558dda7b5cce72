"""The claim: one statement for a first delivery, the full locked path for every other case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from shared.db import repo
from shared.db.engine import get_engine, session_scope
from shared.db.ledger import ClaimRequest, ClaimResult, SqlLedger
from shared.db.migrate import upgrade
from shared.db.models import Campaign, Event
from shared.db.repo import Claim
from shared.events import CampaignEvent, Rejection
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


def test_a_group_of_first_deliveries_is_one_insert(ledger: SqlLedger) -> None:
    events = sample_events("grp", count=3)  # several campaigns
    with statements(ledger.db_url) as seen:
        results = ledger.claim_many([ClaimRequest(e, 3) for e in events])
    assert seen == ["INSERT", "INSERT"]  # the campaigns, then every claim
    assert [(r.claim, r.attempt) for r in results] == [(Claim.PROCESS, 1)] * len(events)
    more = [e.model_copy(update={"event_id": f"{e.event_id}-b"}) for e in events]
    with statements(ledger.db_url) as seen:
        ledger.claim_many([ClaimRequest(e, 3) for e in more])
    assert seen == ["INSERT"]  # campaigns known to this process: the claims only


def _mixed_deliveries(ledger: SqlLedger) -> list[ClaimRequest]:
    """Every kind of delivery, several of them for one id, after some history."""
    evs = sample_events("mix", count=2)
    done, placeholder, changed = evs[0], evs[1], evs[2]
    ledger.claim(done, max_attempts=3)
    with session_scope(ledger.db_url) as s:
        row = s.get(Event, done.event_id)
        assert row is not None
        row.status = "done"
    ledger.claim(changed, max_attempts=3)
    ledger.reject(
        Rejection(reason="unsigned", event_id=placeholder.event_id, payload="{}"), payload_bytes=2
    )
    conflict = changed.model_copy(
        update={"products": changed.products[::-1] + changed.products[:1]}
    )
    fresh = evs[3]
    return [
        ClaimRequest(fresh, 3),
        ClaimRequest(done, 3),
        ClaimRequest(fresh, 3),  # the same id again in one group: a redelivery
        ClaimRequest(conflict, 9),
        ClaimRequest(placeholder, 3),
        ClaimRequest(evs[4], 0),  # no attempts allowed
        ClaimRequest(fresh, 2),  # its third delivery with a budget of 2: gives up
        ClaimRequest(changed, 3),
    ]


def test_a_group_decides_like_the_same_claims_one_by_one(tmp_path: Path) -> None:
    """Duplicates, redeliveries, conflicts, placeholders and exhausted attempts in one group:
    the same outcomes and rows as claiming each delivery alone, in the same order."""
    rows: list[list[tuple[str, str, int]]] = []
    outcomes: list[list[tuple[Claim, int]]] = []
    for together in (True, False):
        db = f"sqlite:///{tmp_path / f'{together}.sqlite3'}"
        upgrade(db)
        ledger = SqlLedger(db, worker="w1")
        requests = _mixed_deliveries(ledger)
        if together:
            results = ledger.claim_many(requests)
        else:
            results = [ledger.claim(r.event, max_attempts=r.max_attempts) for r in requests]
        outcomes.append([(r.claim, r.attempt) for r in results if isinstance(r, ClaimResult)])
        with session_scope(db) as s:
            rows.append(sorted((e.event_id, e.status, e.attempts) for e in s.query(Event).all()))
    assert outcomes[0] == outcomes[1] and rows[0] == rows[1]
    assert [c for c, _ in outcomes[0]] == [
        Claim.PROCESS,
        Claim.ALREADY_DONE,
        Claim.PROCESS,
        Claim.CONFLICT,
        Claim.PROCESS,
        Claim.GIVE_UP,
        Claim.GIVE_UP,
        Claim.PROCESS,
    ]
    assert [a for _, a in outcomes[0]][:3] == [1, 1, 2]


def test_one_failing_delivery_does_not_fail_its_group(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = sample_events("bad", count=2)[:3]
    real_row = repo._claim_row

    def row(event: CampaignEvent, *args: Any) -> dict[str, Any]:
        if event.event_id == events[1].event_id:
            raise ValueError("this one cannot be written")
        return real_row(event, *args)

    monkeypatch.setattr(repo, "_claim_row", row)
    results = ledger.claim_many([ClaimRequest(e, 3) for e in events])
    assert isinstance(results[1], ValueError)
    for r in (results[0], results[2]):
        assert isinstance(r, ClaimResult) and (r.claim, r.attempt) == (Claim.PROCESS, 1)
    with pytest.raises(ValueError, match="cannot be written"):
        ledger.claim(events[1], max_attempts=3)
    with session_scope(ledger.db_url) as s:
        assert s.get(Event, events[1].event_id) is None
        assert s.get(Event, events[2].event_id) is not None


def test_a_forgotten_campaign_row_is_written_again_in_a_group(ledger: SqlLedger) -> None:
    first, *rest = sample_events("gone-grp", count=2)
    ledger.claim(first, max_attempts=3)
    with session_scope(ledger.db_url) as s:
        s.query(Event).delete()
        s.query(Campaign).delete()
    results = ledger.claim_many([ClaimRequest(e, 3) for e in rest])
    assert all(isinstance(r, ClaimResult) and r.claim is Claim.PROCESS for r in results)
