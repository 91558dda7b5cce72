"""Retire losers and ask for more like the winners.

A creative is retired when, in every context where it has been shown, its posterior probability
of being the best is below `feedback_retire_p_best`, and it has at least
`feedback_retire_min_impressions` impressions (enough evidence: with few impressions P(best) is
low for most creatives simply because the posteriors are wide). A slot (campaign × size) always
keeps `feedback_retire_keep` live creatives.

For each slot with retirements one regeneration event is built: the best winner's own campaign
event (same campaign, products, audience) asking for as many fresh variants as were retired, in
the winners' style, with the winners' tone put first in the audience interests and enough
variants that the winner's palette colour is among them (variant v takes colour v of the tone's
palette). It is a `CampaignEvent` published through `shared.publisher.publish`, the front door
every event goes through; it is stored with the retirement first and published after the commit
(an outbox: a broker outage delays the event, never loses it).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db.models import Creative, Event
from shared.events import CampaignEvent
from shared.feedback.models import CreativeRetirement
from shared.feedback.plan import Plans
from shared.ids import stable_seed
from shared.personalize import DEFAULT_TONE, TONES

log = logging.getLogger("adgen.feedback")
ATTRIBUTES = ("style", "tone", "accent", "template", "typeface", "button")


@dataclass(frozen=True)
class Retirement:
    creative_id: str
    campaign_id: str
    size: str
    p_best: float  # the highest over its contexts
    impressions: int
    clicks: int
    posterior_mean: float


def _by_slot(plans: Plans) -> dict[tuple[str, str], dict[str, list[Any]]]:
    """(campaign, size) -> creative -> [max p_best, impressions, clicks, max posterior mean].
    P(best) counts only in contexts where the creative was shown: a segment without traffic
    says nothing about it (every creative looks possibly best there)."""
    out: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(dict)
    for (camp, size, _seg), arms in plans.items():
        for a in arms:
            acc = out[(camp, size)].setdefault(a.creative_id, [0.0, 0, 0, 0.0])
            if a.impressions > 0:
                acc[0] = max(acc[0], a.p_best)
            acc[1] += a.impressions
            acc[2] += a.clicks
            acc[3] = max(acc[3], a.posterior_mean)
    return out


def decide(plans: Plans, *, threshold: float, min_impressions: int, keep: int) -> list[Retirement]:
    """Pure: which creatives to retire now, worst first within each slot."""
    out: list[Retirement] = []
    for (camp, size), arms in sorted(_by_slot(plans).items()):
        losers = sorted(
            (v[0], cid) for cid, v in arms.items() if v[0] < threshold and v[1] >= min_impressions
        )
        for p, cid in losers[: max(0, len(arms) - keep)]:
            v = arms[cid]
            out.append(Retirement(cid, camp, size, p, v[1], v[2], v[3]))
    return out


def winners(plans: Plans, campaign: str, size: str, exclude: set[str], n: int = 2) -> list[str]:
    arms = _by_slot(plans).get((campaign, size), {})
    ranked = sorted(((-v[0], -v[3], cid) for cid, v in arms.items() if cid not in exclude))
    return [cid for *_k, cid in ranked[:n]]


def winner_attributes(details: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The most common value of each attribute among the winners (the best one breaks ties)."""
    out: dict[str, Any] = {}
    for attr in ATTRIBUTES:
        values = [((d or {}).get("plan") or {}).get(attr) for d in details]
        values = [v for v in values if v]
        if values:
            counts = Counter(values)
            out[attr] = max(values, key=lambda v: (counts[v], -values.index(v)))
    return out


def regeneration_event(
    *,
    base: dict[str, Any],
    size: str,
    retired: Sequence[str],
    bias: dict[str, Any],
    now: datetime,
    max_count: int,
) -> CampaignEvent:
    """Pure: the campaign event asking for fresh variants like the winners. `base` is the best
    winner's own event payload."""
    tone = next((t for t in TONES if t.name == bias.get("tone")), DEFAULT_TONE)
    accent = bias.get("accent")
    colour_slot = tone.palette.index(accent) + 1 if accent in tone.palette else 1
    count = min(max_count, max(len(retired), colour_slot))
    interests = list(base.get("audience", {}).get("interests", []))
    if tone is not DEFAULT_TONE:
        interests = [tone.name] + [i for i in interests if i != tone.name]
    key = "|".join(sorted(retired))
    payload = {
        **{k: v for k, v in base.items() if k not in ("event_id", "occurred_at", "creative")},
        "event_id": f"regen-{stable_seed(base['campaign']['id'], size, key):08x}"
        f"-{stable_seed(key, 'b'):08x}",
        "occurred_at": now.isoformat(),
        "audience": {**base.get("audience", {}), "interests": interests[:20]},
        "creative": {
            "count": count,
            "sizes": [size],
            "style": bias.get("style", base.get("creative", {}).get("style", "clean")),
            "seed": stable_seed("regen", key),
        },
    }
    return CampaignEvent.model_validate(payload)


def record(
    *,
    session: Session,
    plans: Plans,
    decisions: Sequence[Retirement],
    now: datetime,
    regenerate: bool,
    max_count: int,
) -> list[str]:
    """Write the retirements (and their regeneration events, unpublished); returns the ids of
    the regeneration events built."""
    built: list[str] = []
    slots: dict[tuple[str, str], list[Retirement]] = defaultdict(list)
    for d in decisions:
        slots[(d.campaign_id, d.size)].append(d)
    for (camp, size), ds in slots.items():
        retired = [d.creative_id for d in ds]
        best = winners(plans, camp, size, exclude=set(retired))
        event: CampaignEvent | None = None
        bias: dict[str, Any] = {}
        if best:
            rows = session.execute(
                select(Creative.creative_id, Creative.details, Event.payload)
                .join(Event, Event.event_id == Creative.event_id)
                .where(Creative.creative_id.in_(best))
            ).all()
            by_id = {r.creative_id: r for r in rows}
            bias = winner_attributes([by_id[c].details for c in best if c in by_id])
            base = by_id[best[0]].payload if best[0] in by_id else None
            if regenerate and base:
                try:
                    event = regeneration_event(
                        base=base,
                        size=size,
                        retired=retired,
                        bias=bias,
                        now=now,
                        max_count=max_count,
                    )
                    built.append(event.event_id)
                except ValueError as exc:  # a stored payload the schema no longer accepts
                    log.warning("no regeneration event for %s %s: %s", camp, size, exc)
        for d in ds:
            session.add(
                CreativeRetirement(
                    creative_id=d.creative_id,
                    campaign_id=camp,
                    size=size,
                    retired_at=now,
                    p_best=d.p_best,
                    impressions=d.impressions,
                    clicks=d.clicks,
                    posterior_mean=d.posterior_mean,
                    reason=f"P(best) {d.p_best:.4f} < threshold after {d.impressions} impressions",
                    winners={"creatives": best, **bias},
                    regeneration_event_id=event.event_id if event else None,
                    regeneration_event=event.model_dump(mode="json") if event else None,
                )
            )
    session.flush()
    return built


def publish_pending(
    *, session: Session, publish: Callable[[dict[str, Any]], object], now: datetime
) -> list[str]:
    """Publish regeneration events not yet published (each once per event id); marks them.
    A publish that fails leaves them pending for the next refresh."""
    r = CreativeRetirement
    pending = session.execute(
        select(r.regeneration_event_id, r.regeneration_event).where(
            r.regeneration_event_id.is_not(None), r.published_at.is_(None)
        )
    ).all()
    done: list[str] = []
    for event_id, payload in {row[0]: row[1] for row in pending}.items():
        publish(payload)
        session.execute(
            update(r).where(r.regeneration_event_id == event_id).values(published_at=now)
        )
        done.append(event_id)
    return done
