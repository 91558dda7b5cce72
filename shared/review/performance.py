"""How approved creatives did once served: impressions, clicks, CTR with a 90% interval, the
serving probability in the feedback loop's plan, retirement, and daily CTR series. Reads the
feedback loop's tables (shared/feedback/models.py); reads only, renders nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import Campaign, Creative, Event
from shared.feedback.models import CreativeRetirement, FeedbackDaily, ServingPlanRow
from shared.review.approval import review_states

Z90 = 1.6448536269514722  # two-sided 90% normal quantile


def wilson(clicks: int, impressions: int, z: float = Z90) -> tuple[float, float] | None:
    """Wilson score interval for a click-through rate; None without impressions."""
    if impressions <= 0:
        return None
    p = clicks / impressions
    denom = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / denom
    half = z * math.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions**2)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Counts:
    impressions: int = 0
    clicks: int = 0

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.clicks, self.impressions)


@dataclass(frozen=True)
class CreativePerf:
    creative_id: str
    campaign_id: str
    size: str
    segment: str | None
    state: str
    servable: bool
    counts: Counts
    probability: float | None  # share of draws in its serving context(s); None: not in plan
    p_best: float | None
    retired_at: datetime | None
    retired_reason: str | None


@dataclass(frozen=True)
class CampaignPerf:
    campaign_id: str
    name: str
    creatives: int
    counts: Counts
    in_plan: int
    retired: int


@dataclass
class Performance:
    campaigns: list[CampaignPerf]
    creatives: list[CreativePerf]
    # series name -> [(day, impressions, clicks)], oldest first
    series: dict[str, list[tuple[date, int, int]]] = field(default_factory=dict)


def _counts_by(session: Session, key: Any, campaign: str | None) -> dict[str, Counts]:
    q = select(key, func.sum(FeedbackDaily.impressions), func.sum(FeedbackDaily.clicks)).group_by(
        key
    )
    if campaign is not None:
        q = q.where(FeedbackDaily.campaign_id == campaign)
    return {k: Counts(int(i or 0), int(c or 0)) for k, i, c in session.execute(q)}


def _per_campaign(session: Session, query: Any) -> dict[str, int]:
    return {str(k): int(v or 0) for k, v in session.execute(query)}


def campaign_table(*, session: Session) -> list[CampaignPerf]:
    counts = _counts_by(session, FeedbackDaily.campaign_id, None)
    made = _per_campaign(
        session, select(Creative.campaign_id, func.count()).group_by(Creative.campaign_id)
    )
    in_plan = _per_campaign(
        session,
        select(ServingPlanRow.campaign_id, func.count(func.distinct(ServingPlanRow.creative_id)))
        .where(ServingPlanRow.probability > 0)
        .group_by(ServingPlanRow.campaign_id),
    )
    retired = _per_campaign(
        session,
        select(CreativeRetirement.campaign_id, func.count()).group_by(
            CreativeRetirement.campaign_id
        ),
    )
    rows = session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name)).all()
    return [
        CampaignPerf(
            cid,
            name,
            made.get(cid, 0),
            counts.get(cid, Counts()),
            in_plan.get(cid, 0),
            retired.get(cid, 0),
        )
        for cid, name in rows
    ]


def creative_table(
    *, session: Session, campaign: str | None, limit: int = 200
) -> list[CreativePerf]:
    """The campaign's creatives (all campaigns when None), most impressions first."""
    counts = _counts_by(session, FeedbackDaily.creative_id, campaign)
    plan: dict[str, tuple[float, float]] = {}
    plan_q = select(
        ServingPlanRow.creative_id,
        func.sum(ServingPlanRow.probability),
        func.max(ServingPlanRow.p_best),
    ).group_by(ServingPlanRow.creative_id)
    if campaign is not None:
        plan_q = plan_q.where(ServingPlanRow.campaign_id == campaign)
    for cid, prob, best in session.execute(plan_q):
        plan[cid] = (float(prob), float(best))
    q = (
        select(
            Creative.creative_id,
            Creative.campaign_id,
            Creative.size,
            Creative.servable,
            Event.payload["audience"]["segment"].as_string(),
            CreativeRetirement.retired_at,
            CreativeRetirement.reason,
        )
        .join(Event, Event.event_id == Creative.event_id)
        .outerjoin(CreativeRetirement, CreativeRetirement.creative_id == Creative.creative_id)
    )
    if campaign is not None:
        q = q.where(Creative.campaign_id == campaign)
    rows = list(session.execute(q).all())
    rows.sort(key=lambda r: (-counts.get(r[0], Counts()).impressions, r[0]))
    rows = rows[:limit]
    states = review_states(session=session, creative_ids=[r[0] for r in rows])
    return [
        CreativePerf(
            cid,
            camp,
            size,
            seg,
            states[cid],
            servable,
            counts.get(cid, Counts()),
            plan.get(cid, (None, None))[0],
            plan.get(cid, (None, None))[1],
            at,
            reason,
        )
        for cid, camp, size, servable, seg, at, reason in rows
    ]


def daily_series(
    *, session: Session, campaign: str | None, top: int = 6
) -> dict[str, list[tuple[date, int, int]]]:
    """Daily impressions and clicks: per campaign (all campaigns), or for a campaign's `top`
    creatives by impressions plus the campaign as a whole."""
    key = FeedbackDaily.campaign_id if campaign is None else FeedbackDaily.creative_id
    q = select(
        key, FeedbackDaily.day, func.sum(FeedbackDaily.impressions), func.sum(FeedbackDaily.clicks)
    ).group_by(key, FeedbackDaily.day)
    if campaign is not None:
        q = q.where(FeedbackDaily.campaign_id == campaign)
    series: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for name, day, imps, clicks in session.execute(q.order_by(FeedbackDaily.day)):
        series[str(name)].append((day, int(imps or 0), int(clicks or 0)))
    ranked = sorted(series, key=lambda k: -sum(i for _d, i, _c in series[k]))[:top]
    out = {(k if campaign is None else k[:8]): series[k] for k in ranked}
    if campaign is not None and series:
        total: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for points in series.values():
            for day, imps, clicks in points:
                total[day][0] += imps
                total[day][1] += clicks
        out[f"{campaign} (all)"] = [(d, v[0], v[1]) for d, v in sorted(total.items())]
    return out


def performance(*, session: Session, campaign: str | None) -> Performance:
    return Performance(
        campaigns=campaign_table(session=session),
        creatives=creative_table(session=session, campaign=campaign),
        series=daily_series(session=session, campaign=campaign),
    )
