"""Celery tasks: two-line wrappers over shared.pipeline, plus the worker's lifecycle hooks.

Retry policy lives in one place, `EventTask`: transient errors (storage, database, broker, the
event's deadline) retry with exponential backoff up to `ADGEN_TASK_MAX_RETRIES`; on the last try
the pipeline ends the event as failed instead of raising. Outcomes other than success end the
task in Celery's FAILURE state (so Flower shows them) without a traceback or a redelivery.
"""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from typing import Any

from celery import Task
from celery.signals import (
    after_setup_logger,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from shared.compose.fonts import check_fonts
from shared.config import get_settings
from shared.events import peek_event_id, peek_event_ids
from shared.intake import describe
from shared.pipeline import (
    TRANSIENT_ERRORS,
    Outcome,
    handle_bundle_task,
    handle_event_task,
    handle_handoff,
)
from shared.queues import PROCESS_BUNDLE_TASK, PROCESS_EVENT_TASK, RENDER_TASK
from workers import logs
from workers.app import app
from workers.context import get_context, in_flight, shutdown
from workers.prometheus import get_metrics, serve
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
        getattr(sender, "pool_cls", "")
    )
    if "prefork" not in pool:
        get_context()


@worker_ready.connect
def _on_ready(**_: Any) -> None:
    # Logging is configured by now (it is not yet at worker_init): say what this worker serves.
    ctx = get_context()
    rt = ctx.runtime
    log.info(
        "model %s loaded on %s%s; scoring %s; batch <= %d, wait %.0f ms",
        rt.version,
        rt.device,
        " [UNTRAINED]" if rt.untrained else "",
        "on" if ctx.scorer is not None else "off",
        _settings.batch_max_size,
        _settings.batch_max_wait_ms,
    )
    # Loud, not fatal: a worker without CJK fonts still serves every other locale.
    check_fonts(log)


@worker_process_init.connect
def _on_process_init(**_: Any) -> None:  # prefork pool processes (not the default)
    get_context()


@worker_shutdown.connect
def _on_shutdown(**_: Any) -> None:
    shutdown()


@task_prerun.connect
def _prerun(
    task_id: str | None = None, task: Task | None = None, args: Any = None, **_: Any
) -> None:
    if _watchdog is not None and task_id:
        _watchdog.started(task_id, task.name if task else "?")
    get_metrics().in_flight.inc()


@task_postrun.connect
def _postrun(task_id: str | None = None, **_: Any) -> None:
    if _watchdog is not None and task_id:
        _watchdog.finished(task_id)
    get_metrics().in_flight.dec()


class EventRejected(Exception):
    """The delivery was refused (recorded with its reason): FAILURE in Flower, no retry."""


class EventFailed(Exception):
    """The event ended as failed (recorded with its reason): FAILURE in Flower, no retry."""


def settle(outcome: Outcome) -> dict[str, Any]:
    """The task's result; refused and failed outcomes raise so the task state says so."""
    if outcome.status == "rejected":
        raise EventRejected(f"{outcome.event_id or '(no id)'}: {outcome.detail}"[:500])
    if outcome.status in ("failed", "gave_up"):
        raise EventFailed(f"{outcome.event_id}: {outcome.detail}"[:500])
    return {"status": outcome.status, "event_id": outcome.event_id, "creatives": outcome.creatives}


def settle_bundle(outcomes: list[Outcome]) -> dict[str, Any]:
    """A bundle's result: how many of its events ended each way (each is recorded on its own;
    a bundle with refused or failed members still succeeds as a delivery)."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {
        "status": "bundle",
        "events": len(outcomes),
        "creatives": sum(o.creatives for o in outcomes),
        **counts,
    }


class EventTask(Task):  # type: ignore[misc]
    """Late acks, bounded retries of transient errors with capped exponential backoff, the
    event id in every log line, and comebacks after a worker death run one at a time."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 1  # seconds: 1, 2, 4, ... capped below
    retry_backoff_max = _settings.retry_backoff_max
    retry_jitter = False
    max_retries = _settings.task_max_retries
    throws = (EventRejected, EventFailed)
    tracks_upstream = False  # the generator's batcher waits for event tasks on their way

    @property
    def last_try(self) -> bool:
        return bool(self.request.retries >= (self.max_retries or 0))

    @property
    def redelivered(self) -> bool:
        """The broker gave this message back after a worker died holding it."""
        return bool((self.request.delivery_info or {}).get("redelivered"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = logs.current_event.set(logs.event_label(peek_event_ids(args[0] if args else None)))
        redelivered = self.redelivered
        # A message that comes back after its worker died runs one at a time with other
        # comebacks, so a poison event that kills the process cannot keep taking its
        # neighbours' attempts with it: each innocent event shares at most one crash with it.
        try:
            with (
                in_flight(generates=self.tracks_upstream),
                _redelivery_lock if redelivered else nullcontext(),
            ):
                return super().__call__(*args, **kwargs)
        finally:
            logs.current_event.reset(token)

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        # A transient error that outlived every retry before anything could be recorded
        # (the database down throughout): the message still must not vanish.
        if isinstance(exc, TRANSIENT_ERRORS):
            get_context().dead_letter(
                {
                    "event_id": peek_event_id(args[0] if args else None),
                    "reason": f"gave up after {self.request.retries} retries: {exc}"[:2000],
                    "payload": describe(list(args), _settings.rejected_payload_bytes),
                }
            )


class GenerateTask(EventTask):
    tracks_upstream = True


@app.task(bind=True, base=GenerateTask, name=PROCESS_EVENT_TASK)
def process_event(self: EventTask, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """One campaign event delivery (any arguments) -> its creatives, stored and recorded."""
    ctx = get_context()
    return settle(
        handle_event_task(args, kwargs, ctx, retries=self.request.retries, last_try=self.last_try)
    )


@app.task(bind=True, base=EventTask, name=RENDER_TASK)
def render_event(self: EventTask, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """CPU stage: a sealed hand-off -> composed, stored, scored and recorded creatives."""
    ctx = get_context()
    return settle(handle_handoff(args, kwargs, ctx, last_try=self.last_try))


@app.task(bind=True, base=GenerateTask, name=PROCESS_BUNDLE_TASK)
def process_bundle(self: EventTask, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Several campaign events in one delivery -> each event's creatives, stored and recorded."""
    ctx = get_context()
    return settle_bundle(
        handle_bundle_task(
            args,
            kwargs,
            ctx,
            retries=self.request.retries,
            last_try=self.last_try,
            one_by_one=self.redelivered,
        )
    )
