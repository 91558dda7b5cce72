"""Two workers claiming one event at the same moment, on the real Postgres."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.db.engine import dispose_engines, session_scope
from shared.db.models import Creative, Event
from shared.events import CampaignEvent
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


def test_concurrent_claims_through_batchers_keep_the_ledgers_semantics(pg_url: str) -> None:
    """Two workers, each claiming through its own batcher (as a worker does), get deliveries of
    the same and of different events at the same moment: every delivery is counted once (no
    lost update of `attempts`), first deliveries hold attempt 1, done and conflicting ids are
    told apart, and nothing deadlocks."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.batching import MicroBatcher
    from shared.db.ledger import ClaimResult, SqlLedger
    from shared.db.repo import Claim

    evs = sample_events("batch-race", count=3)
    shared_ev, done, conflicted, fresh = evs[0], evs[1], evs[2], evs[3:]
    setup = SqlLedger(pg_url, worker="setup")
    setup.claim(done, max_attempts=3)
    setup.claim(conflicted, max_attempts=3)
    with session_scope(pg_url) as s:
        row = s.get(Event, done.event_id)
        assert row is not None
        row.status = "done"
    conflict = conflicted.model_copy(
        update={"products": conflicted.products[::-1] + conflicted.products[:1]}
    )
    ledgers = [SqlLedger(pg_url, worker=f"w{i}") for i in range(2)]
    batchers = [MicroBatcher(g.claim_many, max_batch=64, max_wait_s=0.2) for g in ledgers]
    for g, b in zip(ledgers, batchers, strict=True):
        g.claim_fn = lambda requests, b=b: b(list(requests), timeout=60)
    # 6 deliveries of one event, one of each other event, spread over both workers.
    jobs = [(i % 2, shared_ev) for i in range(6)]
    jobs += [(i % 2, e) for i, e in enumerate([done, conflict, *fresh])]
    gate = threading.Barrier(len(jobs))

    def claim(job: tuple[int, CampaignEvent]) -> ClaimResult:
        gate.wait()
        return ledgers[job[0]].claim(job[1], max_attempts=99)

    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(claim, jobs))
    finally:
        for b in batchers:
            b.close()
        dispose_engines()
    assert sum(b.stats.batches for b in batchers) < len(jobs)  # claims really shared a statement
    shared_results = results[:6]
    assert all(r.claim is Claim.PROCESS for r in shared_results)
    assert sorted(r.attempt for r in shared_results) == [1, 2, 3, 4, 5, 6]
    assert results[6].claim is Claim.ALREADY_DONE
    assert results[7].claim is Claim.CONFLICT
    assert [(r.claim, r.attempt) for r in results[8:]] == [(Claim.PROCESS, 1)] * len(fresh)
    with session_scope(pg_url) as s:
        row = s.get(Event, shared_ev.event_id)
        assert row is not None and (row.status, row.attempts) == ("processing", 6)
        for e in fresh:
            got = s.get(Event, e.event_id)
            assert got is not None and (got.status, got.attempts) == ("processing", 1)
        kept = s.get(Event, conflicted.event_id)
        assert kept is not None and kept.payload_sha256 == conflicted.payload_hash()
