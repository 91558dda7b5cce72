"""Finishing events in groups: one transaction writes many finished events (group commit).

A worker finishes dozens of events per second, each with a few rows (creatives, scores, the
event's status). One transaction per event costs a round trip per statement plus a commit
(an fsync on the server); many events in one transaction amortise all of it. A worker feeds
`commit_events` through a `MicroBatcher` (max wait 0: whatever queued up while the previous
transaction ran goes into the next one), so grouping adds no waiting at light load.

Atomicity stays per event where it matters: if a group transaction fails, each of its events
is retried alone, so one bad event cannot fail its neighbours, and every caller gets its own
outcome (None, or the exception to raise, transient ones included, so the task retries).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.orm import Session

from shared.db import repo
from shared.db.engine import session_scope
from shared.db.models import STATUS_DONE, Event
from shared.records import CreativeRecord, EventResult, Verdict

_events: Table = Event.__table__  # type: ignore[assignment]
_FINISH = (
    update(_events)
    .where(_events.c.event_id == bindparam("id"))
    .values(
        status=STATUS_DONE,
        finished_at=bindparam("finished"),
        processing_ms=bindparam("ms"),
        last_error=None,
    )
)


_FINISH_FROM_ARRAYS = text(
    "UPDATE events SET status = :done, finished_at = :now, processing_ms = f.ms, "
    "last_error = NULL FROM unnest(CAST(:ids AS text[]), CAST(:ms AS double precision[])) "
    "AS f(id, ms) WHERE events.event_id = f.id"
).bindparams(done=STATUS_DONE)

_RECORD_FIELDS = tuple(f.name for f in fields(CreativeRecord))


def creative_row(
    result: EventResult, record: CreativeRecord, verdict: Verdict | None
) -> dict[str, Any]:
    """The `creatives` row of one record (the one place records meet columns)."""
    event = result.event
    # A shallow copy: `asdict` deep-copies `details` (the plan inside it too) for every creative,
    # 40% of a group commit's CPU in a profile; the row is only read by the INSERT.
    row = {name: getattr(record, name) for name in _RECORD_FIELDS}
    row.update(
        event_id=event.event_id,
        campaign_id=event.campaign.id,
        ad_type=event.type,
        # A creative of the shop's photos only was not drawn by the model (shared/photos).
        model_version_id=(
            None if record.details.get("image_source") == "photo" else result.model.version
        ),
        generate_ms=result.generate_ms / max(1, len(result.creatives)),
        servable=verdict.servable if verdict else True,
        servable_reason=verdict.reason if verdict else None,
    )
    return row


def write_events(session: Session, results: Sequence[EventResult]) -> None:
    """A fixed number of statements for any number of events."""
    models = {r.model.version: r.model for r in results if r.record_model}
    for m in models.values():
        repo.ensure_model_version(
            session=session, version=m.version, name=m.name, path=m.path, config=m.config
        )
    rows, scores = [], {}
    for r in results:
        verdicts: list[Verdict | None] = list(r.verdicts) or [None] * len(r.creatives)
        for record, verdict in zip(r.creatives, verdicts, strict=True):
            rows.append(creative_row(r, record, verdict))
            if verdict is not None:
                scores[record.creative_id] = verdict.scores
    repo.upsert_creatives(session=session, rows=rows)
    repo.upsert_scores(session=session, scores=scores)
    now, clock = datetime.now(UTC), time.perf_counter()
    ids = [r.event.event_id for r in results]
    ms = [(clock - r.started) * 1000 for r in results]
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the group, whatever its size (an executemany would be a statement
        # per event: shared/db/cursor.py says why it is not pipelined).
        session.connection().execute(_FINISH_FROM_ARRAYS, {"ids": ids, "ms": ms, "now": now})
        return
    # SQLite: one Core executemany by primary key (the ORM's bulk UPDATE path cost more CPU
    # than the statement; see repo.upsert).
    session.connection().execute(
        _FINISH, [{"id": i, "finished": now, "ms": m} for i, m in zip(ids, ms, strict=True)]
    )


def commit_events(db_url: str, results: Sequence[EventResult]) -> list[BaseException | None]:
    """Write all events in one transaction; on failure, each alone. One outcome per event."""
    try:
        with session_scope(db_url) as s:
            write_events(s, results)
        return [None] * len(results)
    except Exception as exc:  # noqa: BLE001 - handed to the events' own callers below
        if len(results) == 1:
            return [exc]
    outcomes: list[BaseException | None] = []
    for r in results:
        try:
            with session_scope(db_url) as s:
                write_events(s, [r])
            outcomes.append(None)
        except Exception as exc:  # noqa: BLE001 - this event's caller raises it
            outcomes.append(exc)
    return outcomes
