"""Batched feedback writes: one delivery -> a few multi-row statements, never a row at a time.

`ingest` runs the pure intake checks, looks up the references they need (creatives, stored
impressions and clicks) with one query each, and writes valid events idempotently: on PostgreSQL
with COPY into a session-private staging table and one `INSERT ... SELECT ... ON CONFLICT DO
NOTHING RETURNING`, on SQLite with a multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING`
(SQLAlchemy pages it into statements of 1,000 rows). A redelivered event is a no-op and the
number of new rows is exact. Rejections are written the same
way. The caller owns the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.models import Creative
from shared.feedback.intake import (
    ClickRef,
    FeedbackRejection,
    ImpressionRef,
    Limits,
    Resolved,
    parse_delivery,
    resolve,
)
from shared.feedback.models import FeedbackEventRow, FeedbackRejected

_IN_CHUNK = 500


@dataclass
class IngestResult:
    stored: int = 0  # new rows
    duplicates: int = 0  # already stored, or repeated within the delivery
    rejected: Counter[str] = field(default_factory=Counter)  # by reason class
    by_kind: Counter[str] = field(default_factory=Counter)  # new rows by kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": dict(self.rejected),
            "by_kind": dict(self.by_kind),
        }


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_batch=settings.feedback_max_batch,
        max_bytes=settings.feedback_max_message_bytes,
        future_skew=timedelta(seconds=settings.feedback_future_skew_s),
        max_age=timedelta(days=settings.feedback_max_age_days),
        attribution_window=timedelta(hours=settings.feedback_attribution_window_h),
    )


def _chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _creatives(session: Session, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(sorted(set(ids)), _IN_CHUNK):
        q = select(Creative.creative_id, Creative.campaign_id, Creative.size).where(
            Creative.creative_id.in_(chunk)
        )
        out.update({r[0]: (r[1], r[2]) for r in session.execute(q)})
    return out


def _stored(session: Session, kind: str, impression_ids: Iterable[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(sorted(set(impression_ids)), _IN_CHUNK):
        t = FeedbackEventRow
        q = select(t.impression_id, t.creative_id, t.occurred_at, t.impression_at).where(
            t.kind == kind, t.impression_id.in_(chunk)
        )
        rows.extend(session.execute(q).all())
    return rows


def _utc(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC); compare like with like.
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def lookups(session: Session, events: Sequence[Any]) -> dict[str, Any]:
    """The stored references `intake.resolve` needs for these events, one query per kind."""
    linked = [e.impression_id for e in events if e.kind != "impression"]
    conv = [e.impression_id for e in events if e.kind == "conversion"]
    return {
        "creatives": _creatives(session, (e.creative_id for e in events)),
        "impressions": {
            r.impression_id: ImpressionRef(r.creative_id, _utc(r.occurred_at))
            for r in _stored(session, "impression", linked)
        },
        "clicks": {
            r.impression_id: ClickRef(_utc(r.impression_at), _utc(r.occurred_at))
            for r in _stored(session, "click", conv)
        },
    }


def _row(r: Resolved) -> dict[str, Any]:
    e = r.event
    return {
        "id": e.id,
        "kind": e.kind,
        "impression_id": e.impression_id,
        "creative_id": e.creative_id,
        "campaign_id": e.campaign,
        "size": e.size,
        "segment": e.segment,
        "occurred_at": e.occurred_at.astimezone(UTC),
        "impression_at": r.impression_at.astimezone(UTC),
        "selection_probability": e.selection_probability,
        "value": e.value,
        "aggregated": False,
    }


_COLUMNS = (
    "id",
    "kind",
    "impression_id",
    "creative_id",
    "campaign_id",
    "size",
    "segment",
    "occurred_at",
    "impression_at",
    "selection_probability",
    "value",
)
_STAGE = "feedback_stage"


def _write_events_pg(session: Session, resolved: Sequence[Resolved]) -> Counter[str]:
    """COPY into a session-private staging table, then one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING RETURNING: no statement text grows with the batch, and the server parses once."""
    cols = ", ".join(_COLUMNS)
    conn = session.connection().connection.driver_connection
    with conn.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (LIKE feedback_events "
            "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        with cur.copy(f"COPY {_STAGE} ({cols}) FROM STDIN") as copy:
            for r in resolved:
                e = r.event
                copy.write_row(
                    (
                        e.id,
                        e.kind,
                        e.impression_id,
                        e.creative_id,
                        e.campaign,
                        e.size,
                        e.segment,
                        e.occurred_at,
                        r.impression_at,
                        e.selection_probability,
                        e.value,
                    )
                )
        cur.execute(
            f"INSERT INTO feedback_events ({cols}) SELECT {cols} FROM {_STAGE} "
            "ON CONFLICT DO NOTHING RETURNING kind"
        )
        new = Counter(row[0] for row in cur.fetchall())
        cur.execute(f"DELETE FROM {_STAGE}")
    return new


def write_events(session: Session, resolved: Sequence[Resolved]) -> Counter[str]:
    """Idempotent batched insert; returns the new rows by kind."""
    kinds = {r.event.id: r.event.kind for r in resolved}
    new: Counter[str] = Counter()
    if not resolved:
        return new
    if session.get_bind().dialect.name == "postgresql":
        return _write_events_pg(session, resolved)
    # executemany + RETURNING: SQLAlchemy's "insertmanyvalues" sends multi-row VALUES pages
    # (1,000 rows each) of one cached compiled statement.
    stmt = (
        _insert(session, FeedbackEventRow.__table__)
        .on_conflict_do_nothing()
        .returning(FeedbackEventRow.id)
    )
    new.update(kinds[i] for i in session.execute(stmt, [_row(r) for r in resolved]).scalars())
    return new


def write_rejections(session: Session, rejections: Sequence[FeedbackRejection]) -> None:
    rows = [
        {
            "feedback_id": r.feedback_id,
            "reason_class": r.reason_class,
            "reason": r.reason[:2000],
            "payload": r.payload,
        }
        for r in rejections
    ]
    if rows:
        session.execute(_insert(session, FeedbackRejected.__table__), rows)


def ingest(
    raw: str | bytes | list[Any] | dict[str, Any],
    *,
    session: Session,
    now: datetime,
    limits: Limits,
) -> IngestResult:
    """One delivery: validate, resolve, write. Bad input becomes rejection rows, never an
    exception (database errors do propagate: the caller retries the delivery)."""
    parsed = parse_delivery(raw, now=now, limits=limits)
    ok, bad = resolve(
        parsed.events, **lookups(session, parsed.events), window=limits.attribution_window
    )
    rejections = parsed.rejections + bad
    new = write_events(session, ok)
    write_rejections(session, rejections)
    return IngestResult(
        stored=sum(new.values()),
        duplicates=parsed.duplicates + len(ok) - sum(new.values()),
        rejected=Counter(r.reason_class for r in rejections),
        by_kind=new,
    )
