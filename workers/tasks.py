"""Celery tasks: thin wrappers over shared.pipeline."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from celery.signals import worker_process_init

from shared.config import get_settings
from shared.events import CampaignEvent, parse_event
from shared.pipeline import TRANSIENT_ERRORS, Outcome, fail, handle_message
from shared.queues import PROCESS_EVENT_TASK
from workers.app import app
from workers.context import get_context, init_process

log = logging.getLogger("adgen.worker")
_settings = get_settings()


@worker_process_init.connect
def _on_process_init(**_: Any) -> None:
    init_process()


@app.task(bind=True, name=PROCESS_EVENT_TASK, acks_late=True, reject_on_worker_lost=True,
          max_retries=8)
def process_event(self: Task, raw: str | dict[str, Any]) -> dict[str, Any]:
    """One campaign event (JSON text or object) -> its creatives, stored and recorded."""
    ctx = get_context()
    try:
        outcome: Outcome = handle_message(raw, ctx, excused_attempts=self.request.retries)
    except (*TRANSIENT_ERRORS, SoftTimeLimitExceeded) as exc:
        delay = min(_settings.retry_backoff_max, 2 ** self.request.retries)
        log.warning("transient error, retry %d in %ss: %s", self.request.retries + 1, delay, exc)
        try:
            raise self.retry(countdown=delay)
        except MaxRetriesExceededError:
            event = parse_event(raw)
            if isinstance(event, CampaignEvent):
                fail(event, f"gave up after {self.request.retries} retries: {exc}", ctx)
            return {"status": "failed", "detail": str(exc)}
    return {"status": outcome.status, "event_id": outcome.event_id,
            "creatives": outcome.creatives}
