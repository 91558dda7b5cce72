"""Group commit: many finished events in one transaction, each event still all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PIL import Image
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from shared.db.engine import get_engine, session_scope
from shared.db.group_commit import commit_events
from shared.db.models import Creative, Event, Score
from shared.events import CampaignEvent
from shared.pipeline import Context, handle_event_task
from shared.plan import EventPlan
from shared.records import EventResult
from shared.samples import sample_events


def _keep(writes: list[EventResult]) -> Callable[[list[EventResult]], list[BaseException | None]]:
    """A commit function that keeps the writes instead of committing them."""

    def commit(batch: list[EventResult]) -> list[BaseException | None]:
        writes.extend(batch)
        return [None] * len(batch)

    return commit


def _finished_writes(ctx: Context, prefix: str, n: int) -> list[EventResult]:
    """Run n events through the worker path, keeping their final writes instead of committing."""
    writes: list[EventResult] = []
    ctx.ledger.commit_fn = _keep(writes)
    base = sample_events(prefix, count=1)
    for i in range(n):
        ev = base[i % len(base)].model_copy(update={"event_id": f"{prefix}-{i}"})
        assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    ctx.ledger.commit_fn = None
    return writes


def _status(db: str, event_id: str) -> tuple[str, int, int]:
    with session_scope(db) as s:
        row = s.get(Event, event_id)
        assert row is not None
        crs = s.execute(
            select(func.count()).select_from(Creative).where(Creative.event_id == event_id)
        ).scalar_one()
        scs = s.execute(
            select(func.count())
            .select_from(Score)
            .join(Creative, Score.creative_id == Creative.creative_id)
            .where(Creative.event_id == event_id)
        ).scalar_one()
        return row.status, int(crs), int(scs)


def _statements(db: str, fn: object) -> int:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    engine = get_engine(db)
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        fn()  # type: ignore[operator]
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _fixed_scores(
    event: CampaignEvent,
    plan: EventPlan,
    images: dict[tuple[int, int], Image.Image],
    creatives: list[Image.Image],
) -> list[tuple[dict[str, float], bool, str | None]]:
    return [({"alignment": 0.5, "sharpness": 1.0}, True, None) for _ in creatives]


def test_a_group_is_written_in_the_same_statements_as_one_event(ctx: Context) -> None:
    ctx.scorer = _fixed_scores
    first, one, many = (_finished_writes(ctx, p, n) for p, n in (("g0", 1), ("g1", 1), ("g8", 8)))
    assert first[0].record_model and not one[0].record_model  # a new model version once
    commit_events(ctx.ledger.db_url, first)
    n_one = _statements(ctx.ledger.db_url, lambda: commit_events(ctx.ledger.db_url, one))
    n_many = _statements(ctx.ledger.db_url, lambda: commit_events(ctx.ledger.db_url, many))
    assert n_many == n_one  # per group, not per event
    for w in first + one + many:
        status, creatives, scores = _status(ctx.ledger.db_url, w.event.event_id)
        assert (status, creatives) == ("done", len(w.creatives))
        assert scores == 2 * len(w.creatives)
    with session_scope(ctx.ledger.db_url) as s:
        ms = s.execute(select(Event.processing_ms).where(Event.event_id == "g8-3")).scalar_one()
        assert ms is not None and ms > 0


def test_one_bad_event_does_not_fail_its_group(ctx: Context) -> None:
    writes = _finished_writes(ctx, "bad", 4)
    bad = replace(writes[2].creatives[0], object_key=None)  # type: ignore[arg-type]
    writes[2].creatives[0] = bad  # NOT NULL: this event's rows cannot be written
    outcomes = commit_events(ctx.ledger.db_url, writes)
    assert [o is None for o in outcomes] == [True, True, False, True]
    assert "object_key" in str(outcomes[2]) or "NOT NULL" in str(outcomes[2])
    for i, w in enumerate(writes):
        status, creatives, _ = _status(ctx.ledger.db_url, w.event.event_id)
        if i == 2:
            assert (status, creatives) == ("processing", 0)  # nothing half-written
        else:
            assert (status, creatives) == ("done", len(w.creatives))
