"""Query functions. Each takes the session as a keyword argument; the caller owns the commit."""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db.models import (
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_PROCESSING,
    STATUS_REJECTED,
    TERMINAL_STATUSES,
    Base,
    Campaign,
    Creative,
    Event,
    ModelVersion,
    RejectedEvent,
    Score,
)
from shared.events import CampaignEvent, Rejection, hash_payload


def _now() -> datetime:
    return datetime.now(UTC)


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: bool = True,
) -> None:
    """INSERT ... ON CONFLICT for Postgres and SQLite alike (idempotent writes).

    One cached statement executed with a list of parameter sets (SQLAlchemy's "insertmanyvalues"
    batches them into multi-row INSERTs): a statement built per call with `.values(rows)` was
    recompiled every time and showed up as a large share of a worker's CPU in profiles."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _upsert_statement(dialect, model, tuple(rows[0]), tuple(keys), update)
    # Executed on the session's connection (Core): through `session.execute` an INSERT of an
    # ORM entity runs the ORM's bulk-persistence path, about half the CPU of a claim. Same SQL,
    # same transaction; nothing here needs the identity map (callers flush nothing pending
    # that these rows depend on).
    session.connection().execute(stmt, [dict(r) for r in rows])


@lru_cache(maxsize=128)
def _upsert_statement(
    dialect: str, model: type[Base], columns: tuple[str, ...], keys: tuple[str, ...], update: bool
) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    cols = [c for c in columns if c not in keys]
    if update and cols:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


class Claim(enum.StrEnum):
    PROCESS = "process"  # go ahead (first delivery or a redelivery of unfinished work)
    ALREADY_DONE = "already_done"  # idempotent no-op
    ALREADY_TERMINAL = "already_terminal"  # failed/rejected earlier; do not retry forever
    CONFLICT = "conflict"  # same event_id, different payload
    GIVE_UP = "give_up"  # attempts exhausted (e.g. a poison event that kills workers)


def upsert_campaign(*, session: Session, event: CampaignEvent) -> None:
    _upsert_campaigns(session, [event])


def _upsert_campaigns(session: Session, events: Sequence[CampaignEvent]) -> None:
    # DO NOTHING, not DO UPDATE: every event of a campaign passes here, and an update would take
    # the campaign row's lock in each claim (one stuck transaction would then block them all).
    # Sorted, so two transactions that insert the same new campaigns take them in one order.
    campaigns = {e.campaign.id: e.campaign for e in events}
    upsert(
        session,
        Campaign,
        [
            {"id": c.id, "advertiser_id": c.advertiser_id, "name": c.name}
            for _, c in sorted(campaigns.items())
        ],
        keys=["id"],
        update=False,
    )


ClaimOutcome = tuple[Claim, int, str | None]  # (claim, attempt held, last error)


def claim_event(
    *,
    session: Session,
    event: CampaignEvent,
    worker: str,
    max_attempts: int,
    campaign_known: bool = False,
) -> ClaimOutcome:
    """One delivery's claim (see `claim_events`)."""
    (outcome,) = claim_events(
        session=session,
        deliveries=[(event, max_attempts)],
        worker=worker,
        known_campaigns=frozenset([event.campaign.id]) if campaign_known else frozenset(),
    )
    return outcome


def claim_events(
    *,
    session: Session,
    deliveries: Sequence[tuple[CampaignEvent, int]],
    worker: str,
    known_campaigns: Collection[str] = frozenset(),
) -> list[ClaimOutcome]:
    """Record deliveries (event, max attempts) and decide what to do with each, in one
    transaction: one outcome per delivery, in order, the same as claiming them one after the
    other in that order. Row-locks the events on Postgres.

    First deliveries -- nearly every event -- are one multi-row INSERT ... ON CONFLICT DO
    NOTHING RETURNING that writes the claims themselves (plus one INSERT of the campaigns not
    in `known_campaigns`: the caller has written those before). Only a redelivery (an id the
    table holds, or met earlier in `deliveries`) reads its row (locked) and updates it."""
    if not deliveries:
        return []
    _upsert_campaigns(session, [e for e, _ in deliveries if e.campaign.id not in known_campaigns])
    # Rows in id order, so two transactions that meet on the same ids lock them in one order.
    order = sorted(range(len(deliveries)), key=lambda i: deliveries[i][0].event_id)
    first: dict[str, int] = {}  # event id -> the delivery its row is inserted for
    for i in order:
        first.setdefault(deliveries[i][0].event_id, i)
    now = _now()
    rows = [_claim_row(deliveries[i][0], deliveries[i][1], worker, now) for i in first.values()]
    dialect = session.get_bind().dialect.name
    # On the session's connection (Core), not through the ORM (see `upsert`).
    inserted = set(session.connection().execute(_first_claim_statement(dialect), rows).scalars())
    out: list[ClaimOutcome | None] = [None] * len(deliveries)
    for i in order:
        event, max_attempts = deliveries[i]
        if first[event.event_id] == i and event.event_id in inserted and max_attempts >= 1:
            out[i] = (Claim.PROCESS, 1, None)
            continue
        claim, row = _reclaim(session, event, worker, max_attempts)
        out[i] = (claim, row.attempts, row.last_error)
    return [o for o in out if o is not None]


def _claim_row(
    event: CampaignEvent, max_attempts: int, worker: str, now: datetime
) -> dict[str, Any]:
    payload = event.model_dump(mode="json")
    return {
        "event_id": event.event_id,
        "campaign_id": event.campaign.id,
        "type": event.type,
        "schema_version": event.schema_version,
        "status": STATUS_PROCESSING,
        "payload": payload,
        "payload_sha256": hash_payload(payload),
        "attempts": 1 if max_attempts >= 1 else 0,
        "creatives_requested": event.creative_count,
        "occurred_at": event.occurred_at,
        "started_at": now,
        "worker": worker,
    }


@lru_cache(maxsize=4)
def _first_claim_statement(dialect: str) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Event)
    return stmt.on_conflict_do_nothing(index_elements=["event_id"]).returning(Event.event_id)


def _reclaim(
    session: Session, event: CampaignEvent, worker: str, max_attempts: int
) -> tuple[Claim, Event]:
    """A delivery of an id the table already holds (a redelivery, a retry, a duplicate)."""
    row = session.execute(
        select(Event).where(Event.event_id == event.event_id).with_for_update()
    ).scalar_one()
    if row.payload_sha256 is None:
        # A placeholder left by a rejected delivery (invalid, unsigned, ...): it never owned the
        # id, so the first valid payload takes the row over.
        _take_over_placeholder(row, event)
    if row.payload_sha256 != event.payload_hash():
        return Claim.CONFLICT, row
    if row.status == STATUS_DONE:
        return Claim.ALREADY_DONE, row
    if row.status in TERMINAL_STATUSES:
        return Claim.ALREADY_TERMINAL, row
    if row.attempts >= max_attempts:
        row.status = STATUS_FAILED
        row.finished_at = _now()
        row.last_error = (
            f"gave up after {row.attempts} attempts; last error: {row.last_error or 'worker lost'}"
        )
        return Claim.GIVE_UP, row
    row.attempts += 1
    row.status = STATUS_PROCESSING
    row.started_at = _now()
    row.worker = worker
    return Claim.PROCESS, row


def _take_over_placeholder(row: Event, event: CampaignEvent) -> None:
    row.campaign_id, row.type = event.campaign.id, event.type
    row.schema_version, row.payload = event.schema_version, event.model_dump(mode="json")
    row.payload_sha256, row.status, row.attempts = event.payload_hash(), STATUS_PROCESSING, 0
    row.creatives_requested, row.occurred_at = event.creative_count, event.occurred_at
    row.received_at, row.finished_at, row.last_error = _now(), None, None


def claim_problem(*, session: Session, event: CampaignEvent, attempt: int) -> str | None:
    """None when `attempt` is the live claim on exactly this payload (a genuine hand-off);
    otherwise why a hand-off for it must not be accepted."""
    row = session.get(Event, event.event_id)
    if row is None:
        return "no generate worker claimed this event"
    if row.payload_sha256 != event.payload_hash():
        return "the hand-off's event differs from the claimed payload"
    if row.status != STATUS_PROCESSING:
        return f"the event is {row.status}, not in processing"
    if row.attempts != attempt:
        return f"stale hand-off: attempt {attempt}, the live claim is attempt {row.attempts}"
    return None


def record_rejection(
    *,
    session: Session,
    rejection: Rejection,
    worker: str,
    payload_bytes: int,
    placeholder: bool = True,
) -> None:
    session.add(
        RejectedEvent(
            event_id=rejection.event_id,
            reason=rejection.reason,
            payload=rejection.payload,
            payload_bytes=payload_bytes,
            worker=worker,
        )
    )
    if rejection.event_id and placeholder:
        # A status row for ids we can read, unless a valid event already owns that id. It does
        # not claim the id: `claim_event` lets the first valid payload take it over.
        now = _now()
        upsert(
            session,
            Event,
            [
                {
                    "event_id": rejection.event_id,
                    "status": STATUS_REJECTED,
                    "attempts": 1,
                    "last_error": rejection.reason[:4000],
                    "received_at": now,
                    "finished_at": now,
                }
            ],
            keys=["event_id"],
            update=False,
        )


def note_error(*, session: Session, event_id: str, error: str, final: bool) -> None:
    """Keep the last error; on `final` the event becomes failed (a terminal state)."""
    row = session.get(Event, event_id)
    if row is None:
        return
    row.last_error = error[:4000]
    if final:
        row.status = STATUS_FAILED
        row.finished_at = _now()


def ensure_model_version(
    *,
    session: Session,
    version: str,
    name: str,
    path: str,
    config: dict[str, Any],
    kind: str = "generator",
) -> None:
    upsert(
        session,
        ModelVersion,
        [
            {
                "id": version,
                "name": name,
                "path": path,
                "config": config,
                "kind": kind,
            }
        ],
        keys=["id"],
        update=False,
    )


def upsert_creatives(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows and session.get_bind().dialect.name == "postgresql":
        upsert_from_arrays(session, Creative, rows, keys=("creative_id",))
        return
    upsert(session, Creative, rows, keys=["creative_id"])


def upsert_from_arrays(
    session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """`upsert` on Postgres as one statement over one array per column (the server unnests
    them). A multi-row VALUES statement cost ~2.5x the CPU per row of psycopg's pipelined
    executemany, which the workers must not use (shared/db/cursor.py). JSON columns travel as
    one JSON array each, joined by position: psycopg escapes every quote of a JSON text inside
    an array literal in Python, which made the arrays slower than the statement they replace."""
    columns = tuple(rows[0])
    stmt = _array_upsert_statement(model, columns, tuple(keys))
    json_cols = _json_columns(model)
    params: dict[str, Any] = {}
    for i, name in enumerate(columns):
        values = [r[name] for r in rows]
        params[f"c{i}"] = json.dumps(values, default=str) if name in json_cols else values
    session.connection().execute(stmt, params)


@lru_cache(maxsize=32)
def _json_columns(model: type[Base]) -> frozenset[str]:
    pg = postgresql.dialect()
    return frozenset(
        c.name
        for c in model.__table__.columns
        if c.type.compile(dialect=pg).upper() in ("JSON", "JSONB")
    )


@lru_cache(maxsize=32)
def _array_upsert_statement(
    model: type[Base], columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    pg = postgresql.dialect()
    table: Table = model.__table__  # type: ignore[assignment]
    json_cols = _json_columns(model)
    plain = [(i, c) for i, c in enumerate(columns) if c not in json_cols]
    arrays = ", ".join(
        f"CAST(:c{i} AS {table.columns[c].type.compile(dialect=pg)}[])" for i, c in plain
    )
    source = f"unnest({arrays}) WITH ORDINALITY AS u({', '.join(f'c{i}' for i, _ in plain)}, n)"
    picked = {c: f"u.c{i}" for i, c in plain}
    for i, c in enumerate(columns):
        if c in json_cols:
            source += (
                f" JOIN jsonb_array_elements(CAST(:c{i} AS jsonb)) WITH ORDINALITY"
                f" AS j{i}(value, n) USING (n)"
            )
            picked[c] = f"NULLIF(j{i}.value, 'null'::jsonb)"
    quoted = [pg.identifier_preparer.quote(c) for c in columns]
    updates = ", ".join(
        f"{q} = EXCLUDED.{q}" for c, q in zip(columns, quoted, strict=True) if c not in keys
    )
    return text(
        f"INSERT INTO {table.name} ({', '.join(quoted)}) "
        f"SELECT {', '.join(picked[c] for c in columns)} FROM {source} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


# Scores are ~15 rows per creative, 150 per standard event: as a list of parameter sets
# SQLAlchemy processes every row in Python (0.44 of the DB stage's 1.2 s in a profile of 12
# group commits); as three arrays psycopg adapts each column in one call and the server unnests
# them.  Same rows, same upsert.
_SCORES_FROM_ARRAYS = text(
    "INSERT INTO scores (creative_id, metric, value) "
    "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:metrics AS text[]), "
    "CAST(:vals AS double precision[])) "
    "ON CONFLICT (creative_id, metric) DO UPDATE SET value = EXCLUDED.value"
)


def upsert_scores(*, session: Session, scores: Mapping[str, Mapping[str, float]]) -> None:
    """All scores of an event's creatives ({creative_id: {metric: value}}) in one statement."""
    ids, metrics, values = [], [], []
    for cid, named in scores.items():
        for k, v in named.items():
            ids.append(cid)
            metrics.append(k)
            values.append(float(v))
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(
            _SCORES_FROM_ARRAYS, {"ids": ids, "metrics": metrics, "vals": values}
        )
        return
    rows = [
        {"creative_id": c, "metric": m, "value": v}
        for c, m, v in zip(ids, metrics, values, strict=True)
    ]
    upsert(session, Score, rows, keys=["creative_id", "metric"])


def event_summary(*, session: Session, event_id: str) -> dict[str, Any] | None:
    row = session.get(Event, event_id)
    if row is None:
        return None
    creatives = (
        session.execute(
            select(Creative).where(Creative.event_id == event_id).order_by(Creative.index)
        )
        .scalars()
        .all()
    )
    return {
        "event_id": row.event_id,
        "type": row.type,
        "campaign_id": row.campaign_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "creatives_requested": row.creatives_requested,
        "creatives": len(creatives),
        "received_at": row.received_at,
        "finished_at": row.finished_at,
        "processing_ms": row.processing_ms,
        "worker": row.worker,
        "objects": [c.object_key for c in creatives],
    }
