"""Report data, read only from the `analytics` views (shared/analytics/views.py), so the report
runs connected as the read-only analyst role; on embedded SQLite, from stand-ins for the views.

Each function takes the session and the views as keyword arguments and returns plain records;
nothing here renders or touches object storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.analytics.latency import DayLatency, daily_percentiles
from shared.analytics.views import Views, views_for

TIMING_STAGES = ("generate", "compose", "encode", "upload")
_IN_CHUNK = 500  # stay far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class CreativeRecord:
    creative_id: str
    event_id: str
    campaign_id: str
    index: int
    ad_type: str
    size: str
    width: int
    height: int
    variant: str
    style: str
    prompt: str
    headline: str | None
    model_version_id: str | None
    servable: bool
    servable_reason: str | None
    object_key: str
    bytes: int
    created_at: datetime | None
    timings_ms: dict[str, float | None]
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class CampaignRecord:
    campaign_id: str
    name: str
    advertiser_id: str
    events_by_status: dict[str, int]
    creatives_total: int  # in the database; `creatives` may be capped by a limit
    creatives: list[CreativeRecord]
    processing_ms: list[float]  # per finished event

    def by_size(self) -> dict[str, list[CreativeRecord]]:
        groups: dict[str, list[CreativeRecord]] = defaultdict(list)
        for c in self.creatives:
            groups[c.size].append(c)
        return dict(sorted(groups.items(), key=lambda kv: _size_area(kv[0]), reverse=True))


@dataclass(frozen=True)
class ModelRecord:
    model_version_id: str
    name: str
    kind: str
    creatives: int
    mean_scores: dict[str, float]
    report_metrics: dict[str, Any]


@dataclass(frozen=True)
class ProblemGroup:
    """Failed events or refused messages sharing a reason class."""

    status: str  # failed | rejected
    reason_class: str
    count: int
    example: str  # one reason of the group (user input: escape it)
    latest_at: datetime | None


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: str
    name: str
    advertiser_id: str


@dataclass
class ReportData:
    generated_at: datetime
    campaign_filter: str | None
    limit: int | None
    campaigns: list[CampaignRecord]
    models: list[ModelRecord]
    problems: list[ProblemGroup] = field(default_factory=list)
    latency: list[DayLatency] = field(default_factory=list)  # received -> done, per day

    @property
    def creatives(self) -> list[CreativeRecord]:
        return [c for camp in self.campaigns for c in camp.creatives]

    @property
    def events_by_status(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for camp in self.campaigns:
            for status, n in camp.events_by_status.items():
                totals[status] += n
        return dict(totals)

    @property
    def creatives_total(self) -> int:
        return sum(c.creatives_total for c in self.campaigns)


def _size_area(size: str) -> int:
    w, _, h = size.partition("x")
    return int(w) * int(h) if w.isdigit() and h.isdigit() else 0


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def load_campaigns(*, session: Session, views: Views, campaign: str | None) -> list[CampaignRow]:
    v = views.campaigns.c
    q = select(v.campaign_id, v.campaign_name, v.advertiser_id).order_by(
        v.campaign_name, v.campaign_id
    )
    if campaign is not None:
        q = q.where(v.campaign_id == campaign)
    return [CampaignRow(str(cid), str(name), str(adv)) for cid, name, adv in session.execute(q)]


def event_status_counts(
    *, session: Session, views: Views, campaign_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    v = views.events.c
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for chunk in _chunks(campaign_ids):
        q = (
            select(v.campaign_id, v.status, func.count())
            .where(v.campaign_id.in_(chunk))
            .group_by(v.campaign_id, v.status)
        )
        for cid, status, n in session.execute(q).all():
            out[str(cid)][status] = int(n)
    return out


def event_processing_ms(
    *, session: Session, views: Views, campaign_ids: Sequence[str]
) -> dict[str, list[float]]:
    v = views.events.c
    out: dict[str, list[float]] = defaultdict(list)
    for chunk in _chunks(campaign_ids):
        q = select(v.campaign_id, v.processing_ms).where(
            v.campaign_id.in_(chunk), v.processing_ms.is_not(None)
        )
        for cid, ms in session.execute(q).all():
            out[str(cid)].append(float(ms or 0.0))
    return out


def creative_counts(
    *, session: Session, views: Views, campaign_ids: Sequence[str]
) -> dict[str, int]:
    v = views.creatives.c
    out: dict[str, int] = {}
    for chunk in _chunks(campaign_ids):
        q = (
            select(v.campaign_id, func.count())
            .where(v.campaign_id.in_(chunk))
            .group_by(v.campaign_id)
        )
        out.update({cid: int(n) for cid, n in session.execute(q).all()})
    return out


def load_creatives(
    *, session: Session, views: Views, campaign_ids: Sequence[str], limit: int | None
) -> list[CreativeRecord]:
    """The creatives of these campaigns, newest `limit` per campaign when a limit is given."""
    v = views.creatives.c
    rows: list[Any] = []
    for chunk in _chunks(campaign_ids):
        q = select(views.creatives).where(v.campaign_id.in_(chunk))
        if limit is not None:
            rank = (
                func.row_number()
                .over(
                    partition_by=v.campaign_id,
                    order_by=(v.created_at.desc(), v.event_id, v.creative_index),
                )
                .label("rank")
            )
            ranked = select(v.creative_id, rank).where(v.campaign_id.in_(chunk)).subquery()
            keep = select(ranked.c.creative_id).where(ranked.c.rank <= limit)
            q = q.where(v.creative_id.in_(keep))
        rows.extend(session.execute(q).mappings())
    rows.sort(key=lambda c: (c["campaign_id"], c["event_id"], c["creative_index"]))
    scores = load_scores(
        session=session, views=views, creative_ids=[c["creative_id"] for c in rows]
    )
    return [_record(c, scores.get(c["creative_id"], {})) for c in rows]


def _record(c: Any, scores: dict[str, float]) -> CreativeRecord:
    headline = c["headline"]
    return CreativeRecord(
        creative_id=c["creative_id"],
        event_id=c["event_id"],
        campaign_id=c["campaign_id"],
        index=c["creative_index"],
        ad_type=c["ad_type"],
        size=c["size"],
        width=c["width"],
        height=c["height"],
        variant=c["variant"],
        style=c["style"],
        prompt=c["prompt"],
        headline=headline if isinstance(headline, str) else None,
        model_version_id=c["model_version_id"],
        servable=bool(c["servable"]),
        servable_reason=c["servable_reason"],
        object_key=c["object_key"],
        bytes=c["bytes"],
        created_at=c["created_at"],
        timings_ms={s: c[f"{s}_ms"] for s in TIMING_STAGES},
        scores=scores,
    )


def load_scores(
    *, session: Session, views: Views, creative_ids: Sequence[str]
) -> dict[str, dict[str, float]]:
    v = views.scores.c
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(creative_ids):
        q = select(v.creative_id, v.metric, v.value).where(v.creative_id.in_(chunk))
        for cid, metric, value in session.execute(q).all():
            out[cid][metric] = float(value)
    return out


def model_records(
    *, session: Session, views: Views, campaign_ids: Sequence[str]
) -> list[ModelRecord]:
    """Models used by these campaigns, with mean scores over all their creatives there."""
    cr, sc, mv = views.creatives.c, views.scores.c, views.models.c
    counts: dict[str, int] = defaultdict(int)
    for chunk in _chunks(campaign_ids):
        q = (
            select(cr.model_version_id, func.count())
            .where(cr.campaign_id.in_(chunk), cr.model_version_id.is_not(None))
            .group_by(cr.model_version_id)
        )
        for mid, n in session.execute(q).all():
            counts[str(mid)] += int(n)
    # Means are combined across chunks by weighting with their counts.
    sums: dict[tuple[str, str], tuple[float, int]] = {}
    for chunk in _chunks(campaign_ids):
        per_metric = (
            select(sc.model_version_id, sc.metric, func.sum(sc.value), func.count())
            .where(sc.campaign_id.in_(chunk), sc.model_version_id.is_not(None))
            .group_by(sc.model_version_id, sc.metric)
        )
        for mid, metric, total, n in session.execute(per_metric).all():
            key = (str(mid), metric)
            s, k = sums.get(key, (0.0, 0))
            sums[key] = (s + float(total), k + int(n))
    means: dict[str, dict[str, float]] = defaultdict(dict)
    for (mid, metric), (total, n) in sums.items():
        means[mid][metric] = total / n
    if not counts:
        return []
    versions = session.execute(
        select(mv.model_version_id, mv.model_name, mv.kind, mv.report_metrics).where(
            mv.model_version_id.in_(list(counts))
        )
    ).all()
    return sorted(
        (
            ModelRecord(
                model_version_id=mid,
                name=name,
                kind=kind,
                creatives=counts[mid],
                mean_scores=dict(sorted(means[mid].items())),
                report_metrics=dict(metrics or {}),
            )
            for mid, name, kind, metrics in versions
        ),
        key=lambda m: m.model_version_id,
    )


def problem_groups(
    *, session: Session, views: Views, campaign_ids: Sequence[str] | None
) -> list[ProblemGroup]:
    """Failed events and refused messages by status and reason class, most frequent first.
    `campaign_ids=None`: all of them, including refused messages naming no campaign."""
    v = views.problems.c
    q = select(
        v.status, v.reason_class, func.count(), func.min(v.reason), func.max(v.finished_at)
    ).group_by(v.status, v.reason_class)
    rows: list[Any] = []
    for chunk in _chunks(campaign_ids) if campaign_ids is not None else [None]:
        rows += session.execute(q if chunk is None else q.where(v.campaign_id.in_(chunk))).all()
    merged: dict[tuple[str, str], ProblemGroup] = {}
    for status, cls, n, example, latest in rows:
        key = (str(status), str(cls))
        old = merged.get(key)
        latest = _as_datetime(latest)
        if old is not None:
            n += old.count
            latest = max((t for t in (old.latest_at, latest) if t is not None), default=None)
            example = min(old.example, example)
        merged[key] = ProblemGroup(key[0], key[1], int(n), str(example or ""), latest)
    return sorted(merged.values(), key=lambda g: (-g.count, g.status, g.reason_class))


def done_latency(
    *, session: Session, views: Views, campaign_ids: Sequence[str] | None
) -> list[DayLatency]:
    """p50/p95 of received -> done per UTC day the event was done."""
    v = views.events.c
    q = select(v.finished_day, v.received_to_finished_ms).where(
        v.status == "done", v.received_to_finished_ms.is_not(None)
    )
    pairs: list[tuple[date, float]] = []
    for chunk in _chunks(campaign_ids) if campaign_ids is not None else [None]:
        for day, ms in session.execute(q if chunk is None else q.where(v.campaign_id.in_(chunk))):
            pairs.append((_as_date(day), float(ms)))
    return daily_percentiles(pairs)


def _as_date(value: date | str) -> date:
    # SQLite's date() returns text.
    return value if isinstance(value, date) else date.fromisoformat(value)


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):  # SQLite returns aggregates of timestamps as text
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # stored in UTC
    return value


def load_report_data(
    *, session: Session, campaign: str | None = None, limit: int | None = None
) -> ReportData:
    """Everything `render_report` needs, in a handful of queries over the analytics views."""
    views = views_for(session)
    campaigns = load_campaigns(session=session, views=views, campaign=campaign)
    ids = [c.campaign_id for c in campaigns]
    statuses = event_status_counts(session=session, views=views, campaign_ids=ids)
    timings = event_processing_ms(session=session, views=views, campaign_ids=ids)
    totals = creative_counts(session=session, views=views, campaign_ids=ids)
    per_campaign: dict[str, list[CreativeRecord]] = defaultdict(list)
    for rec in load_creatives(session=session, views=views, campaign_ids=ids, limit=limit):
        per_campaign[rec.campaign_id].append(rec)
    scope = None if campaign is None else ids
    return ReportData(
        generated_at=datetime.now(UTC),
        campaign_filter=campaign,
        limit=limit,
        campaigns=[
            CampaignRecord(
                campaign_id=c.campaign_id,
                name=c.name,
                advertiser_id=c.advertiser_id,
                events_by_status=dict(sorted(statuses.get(c.campaign_id, {}).items())),
                creatives_total=totals.get(c.campaign_id, 0),
                creatives=per_campaign.get(c.campaign_id, []),
                processing_ms=timings.get(c.campaign_id, []),
            )
            for c in campaigns
        ],
        models=model_records(session=session, views=views, campaign_ids=ids),
        problems=problem_groups(session=session, views=views, campaign_ids=scope),
        latency=done_latency(session=session, views=views, campaign_ids=scope),
    )
