"""Two workers claiming one event at the same moment, on the real Postgres."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.db.engine import dispose_engines, session_scope
from shared.db.models import Creative, Event
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, Outcome, handle_event_task
from shared.samples import sample_events
from shared.storage import open_store

pytestmark = pytest.mark.integration


def test_concurrent_claims_serialise_and_yield_one_set(
    pg_url: str,
    tmp_path: Path,
    tiny_runtime: GeneratorRuntime,
) -> None:
    """The claim row-locks the event: both deliveries are counted (no lost update of
    `attempts`), neither deadlocks, and the two runs leave exactly one set of creatives."""
    store = open_store((tmp_path / "objects").as_uri())
    store.ensure_bucket()
    ev = sample_events("race", count=2)[0]
    workers = [Context.local(pg_url, store, tiny_runtime, worker=f"w{i}") for i in range(2)]
    gate = threading.Barrier(2)
    outcomes: list[Outcome] = []

    def run(ctx: Context) -> None:
        gate.wait()
        outcomes.append(handle_event_task([ev.canonical_json()], {}, ctx))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert sorted(o.status for o in outcomes) in (["done", "done"], ["done", "duplicate"])
        with session_scope(pg_url) as s:
            row = s.get(Event, ev.event_id)
            n = s.execute(select(func.count()).select_from(Creative)).scalar_one()
        assert row is not None and row.status == "done"
        # Both deliveries claimed (the second as a redelivery), or the second found it done.
        assert row.attempts == sum(o.status == "done" for o in outcomes)
        assert n == ev.creative_count
        assert len(store.list("creatives/")) == ev.creative_count
    finally:
        dispose_engines()
