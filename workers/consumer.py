"""A Celery consumer that records the messages Celery itself refuses.

Celery drops a message it cannot decode (invalid UTF-8 in a JSON body, a disallowed content
type), one that is not a task message at all, or one naming a task nobody registered, with only a
log line. Ours records each as a rejection (`rejected_events` + the `adgen.dead` queue) with the
reason and a capped copy of the raw bytes, then lets Celery ack or reject it as before: no
message that reaches a worker vanishes without a record.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.worker.consumer import Consumer

from shared.config import get_settings
from shared.db.ledger import SqlLedger
from shared.events import Rejection, cap_payload, peek_event_id

log = logging.getLogger("adgen.worker")


def record_refused(message: Any, reason: str) -> None:
    """Record one refused broker message; never raises (the consumer must go on)."""
    try:
        s = get_settings()
        raw = message.body if isinstance(message.body, (bytes, str)) else repr(message.body)
        rejection = Rejection(
            reason=reason[:2000],
            event_id=peek_event_id(raw),
            payload=cap_payload(raw, s.rejected_payload_bytes),
        )
        SqlLedger(s.resolved_database_url, worker=s.worker_name or "consumer").reject(
            rejection, payload_bytes=len(raw), placeholder=False
        )
        from workers.context import publish_dead_letter

        publish_dead_letter(
            {
                "event_id": rejection.event_id,
                "reason": rejection.reason,
                "payload": rejection.payload,
            }
        )
        log.error("refused a broker message: %s", reason)
    except Exception:  # noqa: BLE001 - recording must not kill the consumer
        log.critical("refused a broker message (%s) and could not record it", reason, exc_info=True)


class RecordingConsumer(Consumer):  # type: ignore[misc]
    def on_decode_error(self, message: Any, exc: Exception) -> None:
        record_refused(
            message,
            f"undecodable message ({message.content_type}, {message.content_encoding}): {exc}",
        )
        super().on_decode_error(message, exc)

    def on_unknown_message(self, body: Any, message: Any) -> None:
        record_refused(message, "not a task message (bare message on a task queue)")
        super().on_unknown_message(body, message)

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        record_refused(message, f"unknown task: {exc}")
        super().on_unknown_task(body, message, exc)

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        record_refused(message, f"invalid task message: {exc}")
        super().on_invalid_task(body, message, exc)
