"""Celery tasks of the feedback loop: thin wrappers over shared.feedback.service."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.signals import worker_init

from shared.config import get_settings
from shared.feedback.service import TRANSIENT_ERRORS, ingest_delivery, refresh_serving
from shared.queues import INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK
from workers.feedback_app import app
from workers.feedback_prometheus import get_feedback_metrics
from workers.prometheus import serve

log = logging.getLogger("adgen.feedback")


@worker_init.connect
def _on_init(**_: Any) -> None:
    serve(get_settings().metrics_port)


@app.task(
    shared=False,  # only the feedback app: the generator app's task list stays its own
    bind=True,
    name=INGEST_FEEDBACK_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=60,
)
def ingest_feedback(self: Task, delivery: Any, published_at: float | None = None) -> dict:
    """One delivery (JSON array of feedback events) -> stored rows and rejections."""
    result = ingest_delivery(delivery)
    get_feedback_metrics().ingest(result)
    return result.as_dict()


@app.task(
    shared=False,
    bind=True,
    name=REFRESH_PLAN_TASK,
    acks_late=True,
    max_retries=3,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
)
def refresh_plan(
    self: Task,
    campaign_ids: list[str] | None = None,
    policy: str | None = None,
    retire_losers: bool = True,
    seed: int | None = None,
) -> dict:
    """Roll up feedback, refresh the serving plan, retire losers, publish regenerations."""
    result = refresh_serving(
        policy=policy, campaign_ids=campaign_ids, retire_losers=retire_losers, seed=seed
    )
    get_feedback_metrics().refresh(result)
    return result.as_dict()
