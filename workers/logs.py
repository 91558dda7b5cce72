"""Structured logs: every line carries the worker name and the event id being handled."""

from __future__ import annotations

import contextvars
import json
import logging
from typing import Any

current_event: contextvars.ContextVar[str] = contextvars.ContextVar("adgen_event", default="-")


def event_label(event_ids: list[str], shown: int = 3) -> str:
    """What a delivery's log lines carry as its event: its id, a bundle's first ids and how
    many more ("a,b,c+5"), or "-" when no id could be read."""
    if not event_ids:
        return "-"
    more = len(event_ids) - shown
    return ",".join(event_ids[:shown]) + (f"+{more}" if more > 0 else "")


class EventContextFilter(logging.Filter):
    def __init__(self, worker: str) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        record.event_id = current_event.get()
        record.worker = self.worker
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "worker": getattr(record, "worker", "-"),
            "event_id": getattr(record, "event_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


TEXT_FORMAT = "[%(asctime)s %(levelname)s %(worker)s event=%(event_id)s %(name)s] %(message)s"


def install(logger: logging.Logger, worker: str, as_json: bool) -> None:
    """Attach the event-id filter and formatter to every handler of `logger`."""
    formatter: logging.Formatter = JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT)
    for handler in logger.handlers:
        handler.addFilter(EventContextFilter(worker))
        handler.setFormatter(formatter)
