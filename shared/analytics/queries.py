"""Report data: reads the ORM tables (not the Postgres views) so it also runs on embedded SQLite.

Each function takes the session as a keyword argument and returns plain records; nothing here
renders or touches object storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import Campaign, Creative, Event, ModelVersion, Score

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


@dataclass
class ReportData:
    generated_at: datetime
    campaign_filter: str | None
    limit: int | None
    campaigns: list[CampaignRecord]
    models: list[ModelRecord]

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


def _headline(details: dict[str, Any] | None) -> str | None:
    try:
        value = (details or {})["plan"]["copy"]["headline"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def load_campaigns(*, session: Session, campaign: str | None) -> list[Campaign]:
    q = select(Campaign).order_by(Campaign.name, Campaign.id)
    if campaign is not None:
        q = q.where(Campaign.id == campaign)
    return list(session.execute(q).scalars())


def event_status_counts(*, session: Session, campaign_ids: Sequence[str]
                        ) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for chunk in _chunks(campaign_ids):
        q = (select(Event.campaign_id, Event.status, func.count())
             .where(Event.campaign_id.in_(chunk)).group_by(Event.campaign_id, Event.status))
        for cid, status, n in session.execute(q).all():
            out[str(cid)][status] = int(n)
    return out


def event_processing_ms(*, session: Session, campaign_ids: Sequence[str]
                        ) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for chunk in _chunks(campaign_ids):
        q = (select(Event.campaign_id, Event.processing_ms)
             .where(Event.campaign_id.in_(chunk), Event.processing_ms.is_not(None)))
        for cid, ms in session.execute(q).all():
            out[str(cid)].append(float(ms or 0.0))
    return out


def creative_counts(*, session: Session, campaign_ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(campaign_ids):
        q = (select(Creative.campaign_id, func.count()).where(Creative.campaign_id.in_(chunk))
             .group_by(Creative.campaign_id))
        out.update({cid: int(n) for cid, n in session.execute(q).all()})
    return out


def load_creatives(*, session: Session, campaign_ids: Sequence[str], limit: int | None
                   ) -> list[CreativeRecord]:
    """The creatives of these campaigns, newest `limit` per campaign when a limit is given."""
    rows: list[Creative] = []
    for chunk in _chunks(campaign_ids):
        q = select(Creative).where(Creative.campaign_id.in_(chunk))
        if limit is not None:
            rank = func.row_number().over(
                partition_by=Creative.campaign_id,
                order_by=(Creative.created_at.desc(), Creative.event_id, Creative.index),
            ).label("rank")
            ranked = select(Creative.creative_id, rank).where(
                Creative.campaign_id.in_(chunk)).subquery()
            keep = select(ranked.c.creative_id).where(ranked.c.rank <= limit)
            q = q.where(Creative.creative_id.in_(keep))
        rows.extend(session.execute(q).scalars())
    rows.sort(key=lambda c: (c.campaign_id, c.event_id, c.index))
    scores = load_scores(session=session, creative_ids=[c.creative_id for c in rows])
    return [_record(c, scores.get(c.creative_id, {})) for c in rows]


def _record(c: Creative, scores: dict[str, float]) -> CreativeRecord:
    return CreativeRecord(
        creative_id=c.creative_id, event_id=c.event_id, campaign_id=c.campaign_id, index=c.index,
        ad_type=c.ad_type, size=c.size, width=c.width, height=c.height, variant=c.variant,
        style=c.style, prompt=c.prompt, headline=_headline(c.details),
        model_version_id=c.model_version_id, servable=c.servable,
        servable_reason=c.servable_reason, object_key=c.object_key, bytes=c.bytes,
        created_at=c.created_at,
        timings_ms={s: getattr(c, f"{s}_ms") for s in TIMING_STAGES}, scores=scores,
    )


def load_scores(*, session: Session, creative_ids: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(creative_ids):
        q = select(Score.creative_id, Score.metric, Score.value).where(
            Score.creative_id.in_(chunk))
        for cid, metric, value in session.execute(q).all():
            out[cid][metric] = float(value)
    return out


def model_records(*, session: Session, campaign_ids: Sequence[str]) -> list[ModelRecord]:
    """Models used by these campaigns, with mean scores over all their creatives there."""
    counts: dict[str, int] = defaultdict(int)
    means: dict[str, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(campaign_ids):
        q = (select(Creative.model_version_id, func.count())
             .where(Creative.campaign_id.in_(chunk), Creative.model_version_id.is_not(None))
             .group_by(Creative.model_version_id))
        for mid, n in session.execute(q).all():
            counts[str(mid)] += int(n)
    # Means are combined across chunks by weighting with their counts.
    sums: dict[tuple[str, str], tuple[float, int]] = {}
    for chunk in _chunks(campaign_ids):
        per_metric = (
            select(Creative.model_version_id, Score.metric, func.sum(Score.value), func.count())
            .join(Score, Score.creative_id == Creative.creative_id)
            .where(Creative.campaign_id.in_(chunk), Creative.model_version_id.is_not(None))
            .group_by(Creative.model_version_id, Score.metric))
        for mid, metric, total, n in session.execute(per_metric).all():
            key = (str(mid), metric)
            s, k = sums.get(key, (0.0, 0))
            sums[key] = (s + float(total), k + int(n))
    for (mid, metric), (total, n) in sums.items():
        means[mid][metric] = total / n
    if not counts:
        return []
    versions = session.execute(
        select(ModelVersion).where(ModelVersion.id.in_(list(counts)))).scalars()
    return sorted(
        (ModelRecord(model_version_id=mv.id, name=mv.name, kind=mv.kind, creatives=counts[mv.id],
                     mean_scores=dict(sorted(means[mv.id].items())),
                     report_metrics=dict(mv.metrics or {}))
         for mv in versions),
        key=lambda m: m.model_version_id,
    )


def load_report_data(*, session: Session, campaign: str | None = None,
                     limit: int | None = None) -> ReportData:
    """Everything `render_report` needs, in a handful of queries."""
    campaigns = load_campaigns(session=session, campaign=campaign)
    ids = [c.id for c in campaigns]
    statuses = event_status_counts(session=session, campaign_ids=ids)
    timings = event_processing_ms(session=session, campaign_ids=ids)
    totals = creative_counts(session=session, campaign_ids=ids)
    per_campaign: dict[str, list[CreativeRecord]] = defaultdict(list)
    for rec in load_creatives(session=session, campaign_ids=ids, limit=limit):
        per_campaign[rec.campaign_id].append(rec)
    return ReportData(
        generated_at=datetime.now(UTC), campaign_filter=campaign, limit=limit,
        campaigns=[CampaignRecord(
            campaign_id=c.id, name=c.name, advertiser_id=c.advertiser_id,
            events_by_status=dict(sorted(statuses.get(c.id, {}).items())),
            creatives_total=totals.get(c.id, 0), creatives=per_campaign.get(c.id, []),
            processing_ms=timings.get(c.id, []),
        ) for c in campaigns],
        models=model_records(session=session, campaign_ids=ids),
    )
