"""The Celery application: JSON only, late acks, bounded time, one queue per purpose.

Queues:
- `adgen.generate`          events for any generator (device) worker
- `adgen.generate.<worker>` per-device queue, so ops can target one device
- `adgen.render`            CPU stage (with ADGEN_RENDER_QUEUE=1): compose, encode, upload, DB
- `adgen.dead`              dead letters: rejected and failed events with their reason (nobody
                            consumes it by default; inspect it or replay from it)
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from shared.config import Settings, get_settings
from shared.queues import (
    DEAD_QUEUE,
    GENERATE_QUEUE,
    PROCESS_BUNDLE_TASK,
    PROCESS_EVENT_TASK,
    RENDER_QUEUE,
    RENDER_TASK,
    broker_transport_options,
)

dead_exchange = Exchange(DEAD_QUEUE, type="direct", durable=True)
dead_queue = Queue(DEAD_QUEUE, dead_exchange, routing_key=DEAD_QUEUE, durable=True)


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("adgen", broker=settings.resolved_broker_url, include=["workers.tasks"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,  # state lives in the database, not a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        # The threads pool ignores Celery's time limits: the soft limit is the pipeline's
        # per-event deadline and the hard limit the watchdog's (workers/watchdog.py). These
        # still apply to prefork render workers.
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        task_default_queue=GENERATE_QUEUE,
        task_default_exchange=GENERATE_QUEUE,
        task_default_routing_key=GENERATE_QUEUE,
        task_default_delivery_mode="persistent",
        task_queues=[
            Queue(
                GENERATE_QUEUE,
                Exchange(GENERATE_QUEUE, type="direct"),
                routing_key=GENERATE_QUEUE,
                durable=True,
            ),
            Queue(
                RENDER_QUEUE,
                Exchange(RENDER_QUEUE, type="direct"),
                routing_key=RENDER_QUEUE,
                durable=True,
            ),
        ],
        task_routes={
            PROCESS_EVENT_TASK: {"queue": GENERATE_QUEUE},
            PROCESS_BUNDLE_TASK: {"queue": GENERATE_QUEUE},
            RENDER_TASK: {"queue": RENDER_QUEUE},
        },
        broker_transport_options=broker_transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_heartbeat=settings.broker_heartbeat_s,
        # Task events feed Flower; each task then publishes several event messages, which is
        # CPU the worker pays per event (bench/RESULTS.md, issue 16): on only when asked for.
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Messages Celery refuses (undecodable, not a task) are recorded, not just logged.
        worker_consumer="workers.consumer:RecordingConsumer",
    )
    return app


app = make_app()
