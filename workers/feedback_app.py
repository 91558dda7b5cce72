"""The feedback worker's Celery app: the same broker settings as workers/app.py, but it imports
only workers.feedback_tasks (no generator, no model load), consumes `adgen.feedback`, and carries
the beat schedule of the serving-plan refresh.

    celery -A workers.feedback_app worker -Q adgen.feedback --pool threads -c 4   # consumer
    celery -A workers.feedback_app beat                                            # scheduler
    adgen feedback worker [--beat]                                                 # the same
"""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from shared.config import Settings, get_settings
from shared.queues import FEEDBACK_QUEUE, INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK
from workers.app import make_app


def make_feedback_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = make_app(settings)
    app.conf.include = ["workers.feedback_tasks"]
    interval = settings.feedback_refresh_interval_s
    app.conf.update(
        task_default_queue=FEEDBACK_QUEUE,
        task_default_exchange=FEEDBACK_QUEUE,
        task_default_routing_key=FEEDBACK_QUEUE,
        task_queues=[
            Queue(
                FEEDBACK_QUEUE,
                Exchange(FEEDBACK_QUEUE, type="direct"),
                routing_key=FEEDBACK_QUEUE,
                durable=True,
            )
        ],
        task_routes={
            INGEST_FEEDBACK_TASK: {"queue": FEEDBACK_QUEUE},
            REFRESH_PLAN_TASK: {"queue": FEEDBACK_QUEUE},
        },
        # A refresh that could not run before the next one is due is dropped, not queued up.
        beat_schedule={
            "refresh-serving-plan": {
                "task": REFRESH_PLAN_TASK,
                "schedule": interval,
                "options": {"queue": FEEDBACK_QUEUE, "expires": max(1.0, interval)},
            }
        },
        # The in-memory scheduler: the default one keeps its state in a shelve file, i.e.
        # pickles, which AdGen never reads. A restarted beat simply starts a fresh interval.
        beat_scheduler="celery.beat:Scheduler",
        task_soft_time_limit=120,
        task_time_limit=180,
    )
    return app


app = make_feedback_app()
