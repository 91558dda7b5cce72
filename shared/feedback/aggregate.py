"""The periodic roll-up: raw feedback -> `feedback_daily` (creative × segment × UTC day).

Incremental: each raw row is added exactly once, then marked `aggregated`. On PostgreSQL one
statement claims a slice of pending rows (`FOR UPDATE SKIP LOCKED`, so two refreshes never add
the same row), marks them and adds their counts with `INSERT ... ON CONFLICT DO UPDATE`; rows of
transactions still in flight are simply picked up by the next run. Clicks and conversions count on
their impression's day, so a conversion that arrives days late (inside its attribution window,
checked at intake) updates the day it belongs to. Reads never touch raw rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from shared.feedback.models import FeedbackDaily, FeedbackEventRow

SLICE = 50_000  # raw rows per statement (bounded memory and lock time)

_PG_ROLL_UP = text("""
WITH batch AS (
    UPDATE feedback_events SET aggregated = true
    WHERE id IN (SELECT id FROM feedback_events WHERE NOT aggregated
                 ORDER BY received_at LIMIT :slice FOR UPDATE SKIP LOCKED)
    RETURNING creative_id, segment, campaign_id, size, kind, impression_at, value
), added AS (
    INSERT INTO feedback_daily AS d (creative_id, segment, day, campaign_id, size, impressions,
                                     clicks, conversions, conversion_value, updated_at)
    SELECT creative_id, segment, (impression_at AT TIME ZONE 'UTC')::date, min(campaign_id),
           min(size), count(*) FILTER (WHERE kind = 'impression'),
           count(*) FILTER (WHERE kind = 'click'), count(*) FILTER (WHERE kind = 'conversion'),
           COALESCE(sum(value) FILTER (WHERE kind = 'conversion'), 0), now()
    FROM batch GROUP BY 1, 2, 3
    ON CONFLICT (creative_id, segment, day) DO UPDATE SET
        impressions = d.impressions + excluded.impressions,
        clicks = d.clicks + excluded.clicks,
        conversions = d.conversions + excluded.conversions,
        conversion_value = d.conversion_value + excluded.conversion_value,
        updated_at = excluded.updated_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM batch)
""")


def _roll_up_sqlite(session: Session, slice_: int) -> int:
    t = FeedbackEventRow
    rows = session.execute(
        select(
            t.id, t.creative_id, t.segment, t.campaign_id, t.size, t.kind, t.impression_at, t.value
        )
        .where(t.aggregated.is_(False))
        .order_by(t.received_at)
        .limit(slice_)
    ).all()
    sums: dict[tuple[str, str, object], list] = defaultdict(lambda: [None, None, 0, 0, 0, 0.0])
    for r in rows:
        acc = sums[(r.creative_id, r.segment, r.impression_at.date())]
        acc[0], acc[1] = r.campaign_id, r.size
        acc[{"impression": 2, "click": 3, "conversion": 4}[r.kind]] += 1
        acc[5] += r.value or 0.0
    now = datetime.now(UTC)
    if sums:
        d = FeedbackDaily.__table__.c
        ins = sqlite.insert(FeedbackDaily)
        stmt = ins.on_conflict_do_update(
            index_elements=[d.creative_id, d.segment, d.day],
            set_={
                name: d[name] + ins.excluded[name]
                for name in ("impressions", "clicks", "conversions", "conversion_value")
            }
            | {"updated_at": ins.excluded.updated_at},
        )
        session.execute(
            stmt,
            [
                {
                    "creative_id": cid,
                    "segment": seg,
                    "day": day,
                    "campaign_id": camp,
                    "size": size,
                    "impressions": imps,
                    "clicks": clicks,
                    "conversions": convs,
                    "conversion_value": value,
                    "updated_at": now,
                }
                for (cid, seg, day), (camp, size, imps, clicks, convs, value) in sums.items()
            ],
        )
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 500):
        session.execute(update(t).where(t.id.in_(ids[i : i + 500])).values(aggregated=True))
    return len(rows)


def roll_up(*, session: Session, slice_: int = SLICE) -> int:
    """Add every pending raw row to the daily aggregates; returns how many rows were added."""
    total = 0
    while True:
        if session.get_bind().dialect.name == "postgresql":
            n = int(session.execute(_PG_ROLL_UP, {"slice": slice_}).scalar_one())
        else:
            n = _roll_up_sqlite(session, slice_)
        total += n
        if n < slice_:
            return total


Totals = dict[tuple[str, str, str], dict[str, tuple[int, int]]]


def context_totals(*, session: Session, campaign_ids: Collection[str] | None = None) -> Totals:
    """(campaign, size, segment) -> creative -> (impressions, clicks), summed over days."""
    d = FeedbackDaily
    q = select(
        d.campaign_id, d.size, d.segment, d.creative_id, func.sum(d.impressions), func.sum(d.clicks)
    ).group_by(d.campaign_id, d.size, d.segment, d.creative_id)
    if campaign_ids is not None:
        q = q.where(d.campaign_id.in_(list(campaign_ids)))
    out: Totals = defaultdict(dict)
    for camp, size, seg, cid, imps, clicks in session.execute(q):
        out[(camp, size, seg)][cid] = (int(imps or 0), int(clicks or 0))
    return dict(out)
