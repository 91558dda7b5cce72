"""The worker's Celery application with a task that does nothing, for bench/celery_overhead.py:
the same configuration as workers.app (JSON, late acks, queues, the recording consumer), none
of the event path, so the worker's CPU per task is Celery's own (consume, ack, task events,
its log lines)."""

from __future__ import annotations

from typing import Any

from shared.queues import PROCESS_EVENT_TASK
from workers.app import make_app

app = make_app()
app.conf.include = []  # not workers.tasks: no model, no pipeline, no hooks


@app.task(name=PROCESS_EVENT_TASK, acks_late=True)
def noop(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"status": "done"}
