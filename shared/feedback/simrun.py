"""Drive the synthetic audience through the feedback loop, round by round.

Each round reads the serving plan from the database, serves `round_size` impressions from it,
reports the feedback, waits until it is stored, refreshes the plan and measures the lag. Two
transports move the feedback:

- `BrokerTransport`: the real path. Deliveries go to RabbitMQ (`adgen.feedback`) through
  `FeedbackPublisher`; a feedback worker process consumes them into Postgres; the refresh is the
  `adgen.refresh_plan` task on the same queue (what Celery beat sends periodically), and the
  driver waits until the plan's `updated_at` moves.
- `DirectTransport`: the same plain functions called in-process (unit tests, quick looks).

The refresh cadence is one refresh per round (`round_size` impressions), like an ad server that
serves from the plan between periodic refreshes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import func, select

from shared.config import Settings, get_settings
from shared.db.engine import session_scope
from shared.feedback import simulate
from shared.feedback.models import FeedbackEventRow, ServingPlanRow
from shared.feedback.plan import plan_updated_at
from shared.feedback.service import ingest_delivery, refresh_serving


class Transport(Protocol):
    def send(self, events: list[dict[str, Any]]) -> None: ...
    def wait_stored(self, campaign: str, rows: int) -> None: ...
    def refresh(self, campaign: str, policy: str, seed: int) -> None: ...


@dataclass
class DirectTransport:
    settings: Settings
    batch: int = 1000

    def send(self, events: list[dict[str, Any]]) -> None:
        for i in range(0, len(events), self.batch):
            ingest_delivery(events[i : i + self.batch], settings=self.settings)

    def wait_stored(self, campaign: str, rows: int) -> None:
        return None

    def refresh(self, campaign: str, policy: str, seed: int) -> None:
        refresh_serving(
            settings=self.settings,
            policy=policy,
            campaign_ids=[campaign],
            retire_losers=False,
            seed=seed,
            publish=lambda _e: None,
        )


def stored_rows(url: str, campaign: str) -> int:
    with session_scope(url) as s:
        return int(
            s.execute(
                select(func.count())
                .select_from(FeedbackEventRow)
                .where(FeedbackEventRow.campaign_id == campaign)
            ).scalar_one()
        )


@dataclass
class BrokerTransport:
    settings: Settings
    timeout_s: float = 300.0
    poll_s: float = 0.05
    publisher: Any = None

    def __post_init__(self) -> None:
        from shared.feedback.publish import FeedbackPublisher

        self.publisher = self.publisher or FeedbackPublisher(self.settings)

    def send(self, events: list[dict[str, Any]]) -> None:
        self.publisher.publish_batch(events, validate=True)

    def _until(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not done within {self.timeout_s}s")
            time.sleep(self.poll_s)

    def wait_stored(self, campaign: str, rows: int) -> None:
        url = self.settings.resolved_database_url
        self._until(f"{rows} rows of {campaign}", lambda: stored_rows(url, campaign) >= rows)

    def refresh(self, campaign: str, policy: str, seed: int) -> None:
        url = self.settings.resolved_database_url
        with session_scope(url) as s:
            before = plan_updated_at(session=s, campaign=campaign)
        self.publisher.request_refresh(
            campaign_ids=[campaign], policy=policy, retire_losers=False, seed=seed
        )

        def moved() -> bool:
            with session_scope(url) as s:
                now = plan_updated_at(session=s, campaign=campaign)
            return now is not None and (before is None or now > before)

        self._until(f"plan refresh of {campaign}", moved)

    def close(self) -> None:
        self.publisher.close()


@dataclass
class Trace:
    policy: str
    oracle_ctr: float
    impressions: list[int] = field(default_factory=list)  # cumulative, per round
    clicks: list[int] = field(default_factory=list)
    expected_clicks: list[float] = field(default_factory=list)
    oracle_clicks: list[float] = field(default_factory=list)
    plan_ctr: list[float] = field(default_factory=list)  # expected CTR of the plan served
    lags_s: list[float] = field(default_factory=list)  # last delivery sent -> plan refreshed
    events: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        n = self.impressions[-1]
        return {
            "policy": self.policy,
            "impressions": n,
            "events": self.events,
            "ctr": self.clicks[-1] / n,
            "expected_ctr": self.expected_clicks[-1] / n,
            "oracle_ctr": self.oracle_ctr,
            "share_of_oracle": self.expected_clicks[-1] / self.oracle_clicks[-1],
            "final_plan_ctr": self.plan_ctr[-1],
            "final_plan_share": self.plan_ctr[-1] / self.oracle_ctr,
            "regret_clicks": self.oracle_clicks[-1] - self.expected_clicks[-1],
            "lag_p50_s": float(np.median(self.lags_s)) if self.lags_s else None,
            "lag_max_s": max(self.lags_s) if self.lags_s else None,
            "seconds": self.seconds,
        }


def read_plans(url: str, campaign: str) -> dict[str, dict[str, float]]:
    with session_scope(url) as s:
        rows = s.execute(
            select(
                ServingPlanRow.segment, ServingPlanRow.creative_id, ServingPlanRow.probability
            ).where(ServingPlanRow.campaign_id == campaign)
        ).all()
    out: dict[str, dict[str, float]] = {}
    for seg, cid, p in rows:
        out.setdefault(seg, {})[cid] = p
    return out


def run(
    *,
    policy: str,
    transport: Transport,
    settings: Settings | None = None,
    impressions: int = 100_000,
    round_size: int = 2500,
    seed: int = 0,
    n_creatives: int = 12,
    ctr_scale: float = 1.0,
    campaign: str | None = None,
) -> Trace:
    """Simulate `impressions` impressions under `policy`; returns the per-round trace."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    world = simulate.make_world(seed, n_creatives, ctr_scale)
    campaign = campaign or f"sim-{policy.replace('_', '-')}-{seed}"
    with session_scope(url) as s:
        ids = simulate.install(world, session=s, campaign=campaign)  # approved, as reviewed
    rng = np.random.default_rng(seed + 1)  # the audience's draws; the plan's are seeded apart
    trace = Trace(policy, world.oracle_ctr())
    t0 = time.monotonic()
    transport.refresh(campaign, policy, seed)
    served = clicked = 0
    expected = oracle = 0.0
    for r in range((impressions + round_size - 1) // round_size):
        probs = simulate.plan_matrix(world, ids, read_plans(url, campaign))
        rr = simulate.play_round(
            world,
            campaign=campaign,
            ids=ids,
            probs=probs,
            impressions=min(round_size, impressions - served),
            rng=rng,
            tag=f"{campaign}-r{r}",
            now=datetime.now(UTC),
        )
        transport.send(rr.events)
        sent = time.monotonic()
        trace.events += len(rr.events)
        transport.wait_stored(campaign, trace.events)
        transport.refresh(campaign, policy, seed + r + 1)
        trace.lags_s.append(time.monotonic() - sent)
        served, clicked = served + rr.impressions, clicked + rr.clicks
        expected, oracle = expected + rr.expected_clicks, oracle + rr.oracle_clicks
        trace.impressions.append(served)
        trace.clicks.append(clicked)
        trace.expected_clicks.append(expected)
        trace.oracle_clicks.append(oracle)
        trace.plan_ctr.append(world.plan_ctr(probs))
    final = simulate.plan_matrix(world, ids, read_plans(url, campaign))
    trace.plan_ctr.append(world.plan_ctr(final))
    trace.seconds = time.monotonic() - t0
    return trace
