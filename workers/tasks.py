"""Celery tasks: thin wrappers over shared.pipeline, plus the worker's lifecycle hooks."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from typing import Any

from celery import Task
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from celery.signals import (
    after_setup_logger,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from shared.config import get_settings
from shared.events import CampaignEvent, parse_event, peek_event_id
from shared.pipeline import TRANSIENT_ERRORS, Outcome, fail, handle_message
from shared.queues import PROCESS_EVENT_TASK, RENDER_TASK
from workers import logs
from workers.app import app
from workers.context import get_context, shutdown, upstream
from workers.metrics import get_metrics, serve
from workers.watchdog import Watchdog

log = logging.getLogger("adgen.worker")
_settings = get_settings()
_watchdog: Watchdog | None = None
# A message that comes back after its worker died runs one at a time with other comebacks, so a
# poison event that kills the process cannot keep taking its neighbours' attempts with it: each
# innocent event shares at most one crash with it (its first, fresh delivery).
_redelivery_lock = threading.Lock()


@after_setup_logger.connect
def _structured_logs(logger: logging.Logger, **_: Any) -> None:
    logs.install(logger, _settings.worker_name or "worker", _settings.log_json)


@worker_init.connect
def _on_init(sender: Any = None, **_: Any) -> None:
    # Before the consumer starts: the hard-limit watchdog, the metrics endpoint, and (thread
    # pool, the launcher's choice) the model, loaded and warmed so the first event does not
    # pay for it. A prefork parent must not load models: its children do, after the fork.
    global _watchdog
    _watchdog = Watchdog(hard_limit_s=_settings.task_time_limit)
    serve(_settings.metrics_port)
    pool = getattr(getattr(sender, "pool_cls", None), "__module__", "") or str(
        getattr(sender, "pool_cls", ""))
    if "prefork" not in pool:
        get_context()


@worker_ready.connect
def _on_ready(**_: Any) -> None:
    # Logging is configured by now (it is not yet at worker_init): say what this worker serves.
    ctx = get_context()
    rt = ctx.runtime
    log.info("model %s loaded on %s%s; scoring %s; batch <= %d, wait %.0f ms",
             rt.version, rt.device, " [UNTRAINED]" if rt.untrained else "",
             "on" if ctx.scorer is not None else "off", _settings.batch_max_size,
             _settings.batch_max_wait_ms)


@worker_process_init.connect
def _on_process_init(**_: Any) -> None:  # prefork pool processes (not the default)
    get_context()


@worker_shutdown.connect
def _on_shutdown(**_: Any) -> None:
    shutdown()


@task_prerun.connect
def _prerun(task_id: str | None = None, task: Task | None = None, args: Any = None,
            **_: Any) -> None:
    if _watchdog is not None and task_id:
        _watchdog.started(task_id, task.name if task else "?")
    get_metrics().in_flight.inc()


@task_postrun.connect
def _postrun(task_id: str | None = None, **_: Any) -> None:
    if _watchdog is not None and task_id:
        _watchdog.finished(task_id)
    get_metrics().in_flight.dec()


@app.task(bind=True, name=PROCESS_EVENT_TASK, acks_late=True, reject_on_worker_lost=True,
          max_retries=8)
def process_event(self: Task, raw: str | dict[str, Any], published_at: float | None = None,
                  signature: str | None = None) -> dict[str, Any]:
    """One campaign event (JSON text or object) -> its creatives, stored and recorded."""
    token = logs.current_event.set(peek_event_id(raw) or "-")
    try:
        if published_at is not None and self.request.retries == 0:
            get_metrics().stage("queue_wait", time.time() - published_at)
        ctx = get_context()
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        try:
            with upstream().track(), _redelivery_lock if redelivered else nullcontext():
                outcome: Outcome = handle_message(raw, ctx, signature=signature,
                                                  excused_attempts=self.request.retries)
        except (*TRANSIENT_ERRORS, SoftTimeLimitExceeded) as exc:
            delay = min(_settings.retry_backoff_max, 2 ** self.request.retries)
            log.warning("transient error, retry %d in %ss: %s", self.request.retries + 1, delay,
                        exc)
            try:
                raise self.retry(countdown=delay) from exc
            except MaxRetriesExceededError:
                event = parse_event(raw)
                if isinstance(event, CampaignEvent):
                    fail(event, f"gave up after {self.request.retries} retries: {exc}", ctx)
                return {"status": "failed", "detail": str(exc)}
        return {"status": outcome.status, "event_id": outcome.event_id,
                "creatives": outcome.creatives}
    finally:
        logs.current_event.reset(token)


@app.task(bind=True, name=RENDER_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=8)
def render_event(self: Task, handoff: dict[str, Any]) -> dict[str, Any]:
    """CPU stage: compose, encode, upload, score and record an event's generated images."""
    from shared.db.engine import session_scope
    from shared.db.models import STATUS_DONE, Event
    from shared.handoff import decode_images
    from shared.personalize import plan_event
    from shared.pipeline import render_and_store

    event = CampaignEvent.model_validate_json(handoff["event"])  # written by our own workers
    token = logs.current_event.set(event.event_id)
    ctx = get_context()
    try:
        with session_scope(ctx.db_url) as s:
            row = s.get(Event, event.event_id)
            if row is not None and row.status == STATUS_DONE:
                return {"status": "duplicate", "event_id": event.event_id}
        out = render_and_store(event, plan_event(event), decode_images(handoff["images"]), ctx,
                               generate_ms=float(handoff.get("generate_ms", 0.0)))
        ctx.metrics.outcome(out.status, out.creatives)
        return {"status": out.status, "event_id": event.event_id, "creatives": out.creatives}
    except TRANSIENT_ERRORS as exc:
        try:
            raise self.retry(countdown=min(_settings.retry_backoff_max,
                                           2 ** self.request.retries)) from exc
        except MaxRetriesExceededError:
            fail(event, f"render gave up after {self.request.retries} retries: {exc}", ctx)
            return {"status": "failed", "event_id": event.event_id}
    except Exception as exc:  # noqa: BLE001 - recorded on the event, never a crash loop
        log.exception("render of %s failed", event.event_id)
        fail(event, f"render: {type(exc).__name__}: {exc}", ctx)
        return {"status": "failed", "event_id": event.event_id}
    finally:
        logs.current_event.reset(token)
