"""A synthetic audience with hidden click-through rates, to prove the loop works without traffic.

The hidden model (seeded; docs/feedback.md) — for creative c shown to segment s:

    CTR(c, s) = base[s] · exp( style[c.style] + accent[c.accent] + fit · [c.tone == s]
                               + quality_weight · (q_c − 0.6) + noise_c )

- `base[s]`: the segment's base rate (sporty 2.5%, budget 1.8%, family 3.0%);
- `style`, `accent`: attribute effects drawn once per world, N(0, 0.15²) on the log scale;
- `fit`: +0.3 when the creative's tone matches the segment (the personalisation effect);
- `q_c`: the creative's quality score (recorded as its `alignment` score, what the quality prior
  sees), uniform on [0.3, 0.9]; `quality_weight` 0.8: quality predicts CTR, but only partly;
- `noise_c`: N(0, 0.2²) per creative, visible to nobody — the reason a bandit is needed at all.

A clicked impression converts with probability 10%. `World` holds the truth; `install` writes
its creatives (campaign, one event per segment, creatives with `details.plan` attributes and an
`alignment` score) so the real candidate, plan and retirement code sees them; `Round` draws one
batch of impressions from the current serving plan and produces the feedback events. The driver
that moves them through the broker and the database is bench/bench_feedback.py (and
`adgen simulate`); tests drive the same functions directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from shared.db.models import Campaign, Creative, Event, Score
from shared.ids import creative_id
from shared.review.approval import approve_many

SEGMENTS = ("sporty", "budget", "family")
SEGMENT_BASE_CTR = {"sporty": 0.025, "budget": 0.018, "family": 0.030}
SEGMENT_WEIGHTS = {"sporty": 0.4, "budget": 0.35, "family": 0.25}
STYLES = ("clean", "bold", "seasonal")
TONE_PALETTES = {
    "sporty": ("red", "blue", "orange"),
    "budget": ("blue", "red", "green"),
    "family": ("yellow", "blue", "green"),
}
ATTRIBUTE_SD = 0.15
TONE_FIT = 0.3
QUALITY_WEIGHT = 0.8
QUALITY_CENTRE = 0.6
NOISE_SD = 0.2
CONVERSION_RATE = 0.10
SIZE = "300x250"


@dataclass(frozen=True)
class SimCreative:
    index: int
    style: str
    tone: str
    accent: str
    quality: float


@dataclass
class World:
    seed: int
    creatives: list[SimCreative]
    segments: tuple[str, ...]
    weights: NDArray[np.float64]
    ctr: NDArray[np.float64]  # segments × creatives: the hidden truth

    def oracle_ctr(self) -> float:
        """Expected CTR of always serving each segment's best creative."""
        return float(self.weights @ self.ctr.max(axis=1))

    def plan_ctr(self, probs: NDArray[np.float64]) -> float:
        """Expected CTR of serving with these selection probabilities (segments × creatives)."""
        return float(self.weights @ (probs * self.ctr).sum(axis=1))


def make_world(seed: int, n_creatives: int = 12, ctr_scale: float = 1.0) -> World:
    """`ctr_scale` multiplies every base rate (tests use a busier world: more clicks per
    impression, so a small simulation has statistical power)."""
    rng = np.random.default_rng(seed)
    style_fx = dict(zip(STYLES, rng.normal(0, ATTRIBUTE_SD, len(STYLES)), strict=True))
    colours = sorted({c for p in TONE_PALETTES.values() for c in p})
    accent_fx = dict(zip(colours, rng.normal(0, ATTRIBUTE_SD, len(colours)), strict=True))
    creatives = []
    for i in range(n_creatives):
        tone = SEGMENTS[i % len(SEGMENTS)]
        creatives.append(
            SimCreative(
                i,
                STYLES[int(rng.integers(len(STYLES)))],
                tone,
                TONE_PALETTES[tone][int(rng.integers(3))],
                float(rng.uniform(0.3, 0.9)),
            )
        )
    noise = rng.normal(0, NOISE_SD, n_creatives)
    ctr = np.empty((len(SEGMENTS), n_creatives))
    for s, seg in enumerate(SEGMENTS):
        for j, c in enumerate(creatives):
            log_fx = (
                style_fx[c.style]
                + accent_fx[c.accent]
                + TONE_FIT * (c.tone == seg)
                + QUALITY_WEIGHT * (c.quality - QUALITY_CENTRE)
                + noise[j]
            )
            ctr[s, j] = min(0.9, ctr_scale * SEGMENT_BASE_CTR[seg] * np.exp(log_fx))
    weights = np.array([SEGMENT_WEIGHTS[s] for s in SEGMENTS])
    return World(seed, creatives, SEGMENTS, weights / weights.sum(), ctr)


def event_id_for(campaign: str, segment: str) -> str:
    return f"{campaign}-{segment}"


def creative_ids(world: World, campaign: str) -> list[str]:
    """Creative c belongs to the event of segment c.index % 3 (its tone's segment)."""
    ids = []
    for c in world.creatives:
        seg = SEGMENTS[c.index % len(SEGMENTS)]
        ids.append(creative_id(event_id_for(campaign, seg), c.index // len(SEGMENTS)))
    return ids


def _payload(campaign: str, segment: str, now: datetime) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": event_id_for(campaign, segment),
        "type": "product_display",
        "occurred_at": now.isoformat(),
        "campaign": {"id": campaign, "advertiser_id": "sim", "name": f"Simulated {campaign}"},
        "products": [
            {
                "sku": "SKU-SIM-1",
                "title": "Trail running shoe",
                "category": "shoes",
                "description": "",
                "price": "89.99",
                "currency": "USD",
                "brand": "",
            }
        ],
        "audience": {"segment": segment, "interests": [], "locale": "en-US"},
        "creative": {"count": 4, "sizes": [SIZE], "style": "clean", "seed": 7},
        "brand": None,
    }


def install(world: World, *, session: Session, campaign: str, approve: bool = True) -> list[str]:
    """Write the world's creatives (no images: object keys point nowhere) and, unless told
    otherwise, approve them through the review module as reviewer "simulator" (only approved
    creatives are served). Returns their ids. The caller owns the transaction."""
    now = datetime.now(UTC)
    session.add(Campaign(id=campaign, advertiser_id="sim", name=f"Simulated {campaign}"))
    for seg in SEGMENTS:
        p = _payload(campaign, seg, now)
        session.add(
            Event(
                event_id=p["event_id"],
                campaign_id=campaign,
                type=p["type"],
                schema_version=1,
                status="done",
                payload=p,
                payload_sha256="0" * 64,
                occurred_at=now,
            )
        )
    session.flush()
    ids = creative_ids(world, campaign)
    for c, cid in zip(world.creatives, ids, strict=True):
        seg = SEGMENTS[c.index % len(SEGMENTS)]
        session.add(
            Creative(
                creative_id=cid,
                event_id=event_id_for(campaign, seg),
                campaign_id=campaign,
                index=c.index // len(SEGMENTS),
                ad_type="product_display",
                size=SIZE,
                width=300,
                height=250,
                variant=f"{seg}-{c.accent}-v{c.index}",
                style=c.style,
                prompt=f"{c.accent} running shoe",
                seed=c.index,
                object_key=f"sim/{cid}.png",
                bytes=0,
                servable=True,
                details={
                    "plan": {
                        "style": c.style,
                        "tone": c.tone,
                        "accent": c.accent,
                        "template": "square",
                        "typeface": "sans",
                        "button": "pill",
                    },
                    "simulated": True,
                },
            )
        )
    session.flush()
    session.add_all(
        [
            Score(creative_id=cid, metric="alignment", value=c.quality)
            for c, cid in zip(world.creatives, ids, strict=True)
        ]
    )
    session.flush()
    if approve:
        approve_many(session=session, creative_ids=ids, actor="simulator")
    return ids


@dataclass
class RoundResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    impressions: int = 0
    clicks: int = 0
    expected_clicks: float = 0.0  # sum of the true CTRs of what was served (less noisy)
    oracle_clicks: float = 0.0


def play_round(
    world: World,
    *,
    campaign: str,
    ids: list[str],
    probs: NDArray[np.float64],
    impressions: int,
    rng: np.random.Generator,
    tag: str,
    now: datetime,
) -> RoundResult:
    """Serve `impressions` impressions from `probs` (segments × creatives, rows sum to 1) and
    return the feedback events the ad server would report."""
    out = RoundResult()
    per_segment = rng.multinomial(impressions, world.weights)
    for s, seg in enumerate(world.segments):
        n = int(per_segment[s])
        if n == 0:
            continue
        chosen = rng.choice(len(ids), size=n, p=probs[s])
        true = world.ctr[s, chosen]
        clicked = rng.random(n) < true
        converted = clicked & (rng.random(n) < CONVERSION_RATE)
        out.impressions += n
        out.clicks += int(clicked.sum())
        out.expected_clicks += float(true.sum())
        out.oracle_clicks += n * float(world.ctr[s].max())
        base = now - timedelta(minutes=5)
        for j in range(n):
            c = int(chosen[j])
            imp = f"{tag}-{seg}-{j}"
            common = {
                "impression_id": imp,
                "creative_id": ids[c],
                "campaign": campaign,
                "size": SIZE,
                "segment": seg,
                "selection_probability": float(probs[s, c]),
            }
            out.events.append(
                {"id": imp, "kind": "impression", "occurred_at": base.isoformat(), **common}
            )
            if clicked[j]:
                out.events.append(
                    {
                        "id": f"{imp}-c",
                        "kind": "click",
                        "occurred_at": (base + timedelta(seconds=20)).isoformat(),
                        **common,
                    }
                )
            if converted[j]:
                out.events.append(
                    {
                        "id": f"{imp}-v",
                        "kind": "conversion",
                        "value": 89.99,
                        "occurred_at": (base + timedelta(minutes=3)).isoformat(),
                        **common,
                    }
                )
    return out


def plan_matrix(
    world: World, ids: list[str], plans: dict[str, dict[str, float]]
) -> NDArray[np.float64]:
    """segments × creatives selection probabilities from {segment: {creative id: p}}; a segment
    without a plan is served uniformly."""
    k = len(ids)
    out = np.full((len(world.segments), k), 1.0 / k)
    for s, seg in enumerate(world.segments):
        plan = plans.get(seg)
        if plan:
            row = np.array([plan.get(cid, 0.0) for cid in ids])
            if row.sum() > 0:
                out[s] = row / row.sum()
    return out
