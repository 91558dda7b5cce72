"""The serving plan: what an ad server draws creatives from, without calling us per request.

`compute_plans` reads the daily aggregates (never raw rows), the servable candidates and their
quality scores, and runs the bandit maths per context (campaign × size × segment); `write_plans`
replaces those contexts' rows in `serving_plan`. `load_plan` and `select_creative` are the Python
API an ad server (or `adgen select`) uses. The caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.db.models import Score
from shared.feedback import bandit
from shared.feedback.aggregate import context_totals
from shared.feedback.candidates import Candidate, servable_candidates
from shared.feedback.models import ServingPlanRow

# The creative's own quality: mean of these evaluator scores (0..1) where recorded.
QUALITY_METRICS = ("alignment", "realism")

Context = tuple[str, str, str]  # campaign, size, segment
Plans = dict[Context, list[bandit.ArmPlan]]


@dataclass(frozen=True)
class PlanInputs:
    candidates: dict[tuple[str, str], list[str]]  # (campaign, size) -> creative ids
    contexts: list[Context]
    totals: dict[Context, dict[str, tuple[int, int]]]
    quality: dict[str, float]


def quality_scores(*, session: Session, creative_ids: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for i in range(0, len(creative_ids), 500):
        q = (
            select(Score.creative_id, func.avg(Score.value))
            .where(
                Score.creative_id.in_(creative_ids[i : i + 500]), Score.metric.in_(QUALITY_METRICS)
            )
            .group_by(Score.creative_id)
        )
        out.update({cid: float(v) for cid, v in session.execute(q) if v is not None})
    return out


def gather(*, session: Session, campaign_ids: Collection[str] | None = None) -> PlanInputs:
    """Everything `plans_from` needs, in four queries."""
    cands: list[Candidate] = []
    if campaign_ids is None:
        cands = servable_candidates(session=session)
    else:
        for camp in sorted(campaign_ids):
            cands += servable_candidates(session=session, campaign_id=camp)
    by_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in cands:
        by_slot[(c.campaign_id, c.size)].append(c.creative_id)
    totals = context_totals(session=session, campaign_ids=campaign_ids)
    # A context exists once a creative was made for its segment or feedback arrived from it.
    contexts = {(c.campaign_id, c.size, c.segment) for c in cands}
    contexts |= {ctx for ctx in totals if (ctx[0], ctx[1]) in by_slot}
    quality = quality_scores(session=session, creative_ids=[c.creative_id for c in cands])
    return PlanInputs(dict(by_slot), sorted(contexts), totals, quality)


def plans_from(
    inputs: PlanInputs,
    *,
    policy: str,
    settings: Settings,
    rng: np.random.Generator,
    exclude: Collection[str] = (),
) -> Plans:
    """Pure: the plan of every context, leaving out `exclude` (creatives being retired)."""
    plans: Plans = {}
    for ctx in inputs.contexts:
        seen = inputs.totals.get(ctx, {})
        arms = [
            bandit.Arm(cid, *seen.get(cid, (0, 0)), quality=inputs.quality.get(cid))
            for cid in inputs.candidates.get((ctx[0], ctx[1]), [])
            if cid not in exclude
        ]
        # The context's base rate counts every creative it ever served, retired ones included.
        imps = sum(v[0] for v in seen.values())
        clicks = sum(v[1] for v in seen.values())
        params = bandit.PriorParams(
            base_ctr=bandit.context_base_ctr(imps, clicks, settings.feedback_prior_ctr),
            rel_error=settings.feedback_prior_rel_error,
            quality_slope=settings.feedback_prior_quality_slope,
        )
        plans[ctx] = bandit.plan_context(
            arms,
            policy=policy,
            params=params,
            exploration=settings.feedback_exploration,
            draws=settings.feedback_mc_draws,
            rng=rng,
        )
    return plans


def write_plans(
    *,
    session: Session,
    plans: Plans,
    policy: str,
    now: datetime,
    campaign_ids: Collection[str] | None = None,
) -> int:
    """Replace the plan rows of the refreshed campaigns (all when `campaign_ids` is None)."""
    stmt = delete(ServingPlanRow)
    if campaign_ids is not None:
        stmt = stmt.where(ServingPlanRow.campaign_id.in_(list(campaign_ids)))
    session.execute(stmt)
    rows = [
        {
            "campaign_id": ctx[0],
            "size": ctx[1],
            "segment": ctx[2],
            "creative_id": a.creative_id,
            "probability": a.probability,
            "p_best": a.p_best,
            "posterior_mean": a.posterior_mean,
            "ci_low": a.ci_low,
            "ci_high": a.ci_high,
            "impressions": a.impressions,
            "clicks": a.clicks,
            "prior_mean": a.prior_mean,
            "prior_strength": a.prior_strength,
            "policy": policy,
            "updated_at": now,
        }
        for ctx, arms in plans.items()
        for a in arms
    ]
    for i in range(0, len(rows), 1000):
        session.execute(insert(ServingPlanRow), rows[i : i + 1000])
    return len(rows)


def load_plan(*, session: Session, campaign: str, size: str, segment: str) -> list[ServingPlanRow]:
    """One context's plan, ordered by creative id."""
    q = (
        select(ServingPlanRow)
        .where(
            ServingPlanRow.campaign_id == campaign,
            ServingPlanRow.size == size,
            ServingPlanRow.segment == segment,
        )
        .order_by(ServingPlanRow.creative_id)
    )
    return list(session.execute(q).scalars())


def plan_updated_at(*, session: Session, campaign: str) -> datetime | None:
    return session.execute(
        select(func.max(ServingPlanRow.updated_at)).where(ServingPlanRow.campaign_id == campaign)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Selection:
    creative_id: str
    probability: float  # log it with the impression (selection_probability)


def select_creative(
    *, session: Session, campaign: str, size: str, segment: str, rng: np.random.Generator
) -> Selection | None:
    """A single draw from the serving plan; None when nothing may be served. Plan rows are
    checked against the candidates now, so a creative retired or unapproved since the last
    refresh is never drawn; a segment without a plan draws uniformly from the candidates."""
    cands = servable_candidates(session=session, campaign_id=campaign, size=size)
    live = {c.creative_id for c in cands}
    rows = [
        r
        for r in load_plan(session=session, campaign=campaign, size=size, segment=segment)
        if r.creative_id in live
    ]
    if rows:
        probs = np.array([r.probability for r in rows])
        probs = probs / probs.sum()
        i = int(rng.choice(len(rows), p=probs))
        return Selection(rows[i].creative_id, float(probs[i]))
    if not cands:
        return None
    i = int(rng.integers(len(cands)))
    return Selection(cands[i].creative_id, 1.0 / len(cands))
