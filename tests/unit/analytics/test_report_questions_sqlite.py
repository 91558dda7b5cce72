"""The report's problems-by-reason and received->done sections on embedded SQLite, whose
stand-ins for the analytics views must give what the Postgres views give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.analytics.queries import load_report_data
from shared.analytics.report import build_report
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.db.models import Campaign, Event, RejectedEvent
from shared.storage import open_store

T0 = datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC)
DONE_MS = {"d1": 500.0, "d2": 1500.0, "d3": 2500.0, "d4": 100.0}  # d4 finishes the next day


def _populate(db: str) -> None:
    with session_scope(db) as s:
        s.add_all(
            [
                Campaign(id="qa", advertiser_id="adv", name="A"),
                Campaign(id="qb", advertiser_id="adv", name="B"),
            ]
        )
        s.flush()
        for i, (eid, ms) in enumerate(DONE_MS.items()):
            received = T0 + timedelta(seconds=2 if eid == "d4" else -5)
            s.add(
                Event(
                    event_id=eid,
                    campaign_id="qa",
                    status="done",
                    attempts=1,
                    received_at=received,
                    finished_at=received + timedelta(milliseconds=ms),
                    processing_ms=ms / 2 + i,
                )
            )
        s.add(
            Event(
                event_id="f1",
                campaign_id="qb",
                status="failed",
                attempts=3,
                received_at=T0,
                finished_at=T0,
                last_error="gave up after 3 attempts; last error: lost",
            )
        )
        s.add(
            Event(
                event_id="r1",
                status="rejected",
                attempts=1,
                received_at=T0,
                finished_at=T0,
                last_error="invalid event: products: too short",
            )
        )
        s.add_all(
            [
                RejectedEvent(
                    event_id="r1",
                    reason="invalid event: products: too short",
                    payload='{"event_id": "r1", "campaign": {"id": "qb"}}',
                    payload_bytes=40,
                    received_at=T0,
                ),
                RejectedEvent(
                    event_id=None,
                    reason="payload is not JSON: Expecting value",
                    payload="not json",
                    payload_bytes=8,
                    received_at=T0,
                ),
            ]
        )


def test_problems_and_latency_sections_on_sqlite(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    upgrade(db)
    _populate(db)
    try:
        with session_scope(db) as s:
            data = load_report_data(session=s)
            only_b = load_report_data(session=s, campaign="qb")
        groups = {(g.status, g.reason_class): g.count for g in data.problems}
        assert groups == {
            ("failed", "worker_lost"): 1,
            ("rejected", "invalid_event"): 1,
            ("rejected", "not_json"): 1,
        }
        # With a campaign filter, only what names that campaign (r1's payload names qb).
        assert {(g.status, g.reason_class) for g in only_b.problems} == {
            ("failed", "worker_lost"),
            ("rejected", "invalid_event"),
        }
        assert only_b.campaigns[0].events_by_status == {"failed": 1, "rejected": 1}
        same_day = sorted(ms for eid, ms in DONE_MS.items() if eid != "d4")
        latest, first = data.latency
        assert (first.day, first.events) == (T0.date(), 3)
        # julianday() arithmetic: about 0.05 ms resolution on SQLite.
        assert first.p50_ms == pytest.approx(same_day[1], abs=0.1)
        assert (latest.day, latest.events) == (T0.date() + timedelta(days=1), 1)
        out = tmp_path / "r.html"
        build_report(
            db_url=db, store=open_store((tmp_path / "o").as_uri()), out=out, with_plots=False
        )
        page = out.read_text()
        assert '<section id="problems">' in page and "worker_lost" in page
        assert '<section id="latency">' in page and "2026-11-29" in page
    finally:
        dispose_engines()
