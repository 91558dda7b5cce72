"""The feedback loop's two jobs as plain functions (Celery tasks and the CLI wrap them):

- `ingest_delivery`: one delivery of feedback events, one transaction.
- `refresh_serving`: roll up -> plans -> retirements -> plans without the retired -> write,
  one transaction (serialised by an advisory lock on PostgreSQL); then regeneration events are
  published, after the commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy.exc
from sqlalchemy import text

from shared.config import Settings, get_settings
from shared.db.engine import session_scope
from shared.feedback import aggregate, plan, retire
from shared.feedback.store import IngestResult, ingest, limits_from

REFRESH_LOCK = 0x4164_4665_6564  # pg advisory lock key ("AdFeed")
# Worth a retry with backoff (the database may be back in a moment); bad input never raises.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    ConnectionError,
    TimeoutError,
)
log = logging.getLogger("adgen.feedback")


def ingest_delivery(
    raw: str | bytes | list[Any] | dict[str, Any],
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> IngestResult:
    settings = settings or get_settings()
    with session_scope(settings.resolved_database_url) as s:
        return ingest(raw, session=s, now=now or datetime.now(UTC), limits=limits_from(settings))


@dataclass
class RefreshResult:
    rolled_up: int = 0
    contexts: int = 0
    plan_rows: int = 0
    retired: list[str] = field(default_factory=list)
    regeneration_events: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def refresh_serving(
    *,
    settings: Settings | None = None,
    policy: str | None = None,
    campaign_ids: Collection[str] | None = None,
    retire_losers: bool = True,
    seed: int | None = None,
    now: datetime | None = None,
    publish: Callable[[dict[str, Any]], object] | None = None,
) -> RefreshResult:
    """Roll up new feedback, recompute the serving plan, retire losers, publish regeneration
    events. `publish` defaults to `shared.publisher.publish`."""
    t0 = time.perf_counter()
    settings = settings or get_settings()
    policy = policy or settings.feedback_policy
    now = now or datetime.now(UTC)
    rng = np.random.default_rng(seed)
    out = RefreshResult()
    url = settings.resolved_database_url
    with session_scope(url) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK})
        out.rolled_up = aggregate.roll_up(session=s)
        inputs = plan.gather(session=s, campaign_ids=campaign_ids)
        plans = plan.plans_from(inputs, policy=policy, settings=settings, rng=rng)
        if retire_losers:
            decisions = retire.decide(
                plans,
                threshold=settings.feedback_retire_p_best,
                min_impressions=settings.feedback_retire_min_impressions,
                keep=settings.feedback_retire_keep,
            )
            if decisions:
                out.retired = [d.creative_id for d in decisions]
                out.regeneration_events = retire.record(
                    session=s,
                    plans=plans,
                    decisions=decisions,
                    now=now,
                    regenerate=settings.feedback_regenerate,
                    max_count=settings.max_creatives_per_event,
                )
                plans = plan.plans_from(
                    inputs, policy=policy, settings=settings, rng=rng, exclude=set(out.retired)
                )
        out.contexts = len(plans)
        out.plan_rows = plan.write_plans(
            session=s, plans=plans, policy=policy, now=now, campaign_ids=campaign_ids
        )
    if publish is None:
        from shared.publisher import publish as publish_event

        publish = publish_event
    try:
        with session_scope(url) as s:
            out.published = retire.publish_pending(session=s, publish=publish, now=now)
    except Exception as exc:  # noqa: BLE001 - the outbox keeps them for the next refresh
        log.warning("regeneration events stay pending: %s", exc)
    out.seconds = time.perf_counter() - t0
    return out
