"""Publishing campaign events: what the ad backend imports.

    from shared.publisher import publish
    publish(event)          # CampaignEvent, dict or JSON text; returns the event id

Events are validated first (an invalid event raises `InvalidEvent` with the reason, and nothing
is sent). On AMQP the broker confirms each message, so a returned call means the broker has it;
when the broker stays unreachable past the retry policy the call raises — never a silent drop.
Messages are JSON; nothing is pickled.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

from celery import Celery

from shared.config import Settings, get_settings
from shared.events import CampaignEvent, Rejection, parse_event
from shared.queues import GENERATE_QUEUE, PROCESS_EVENT_TASK, broker_transport_options
from shared.signing import sign


class InvalidEvent(ValueError):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


class PublishError(RuntimeError):
    """The broker did not take the message (unreachable, or refused it)."""


class Publisher:
    def __init__(self, settings: Settings | None = None, *, max_retries: int = 5) -> None:
        settings = settings or get_settings()
        self._app = Celery("adgen-publisher", broker=settings.resolved_broker_url,
                           set_as_current=False)
        self._app.conf.update(
            task_serializer="json", accept_content=["json"],
            broker_transport_options=broker_transport_options(settings),
            broker_connection_retry_on_startup=True,
        )
        key = settings.event_hmac_key
        self._hmac_key = key.get_secret_value() if key is not None else None
        self._retry_policy = {"max_retries": max_retries, "interval_start": 0.5,
                              "interval_step": 1.0, "interval_max": 5.0}

    def publish(self, event: CampaignEvent | dict[str, Any] | str | bytes, *,
                validate: bool = True) -> str | None:
        """Send one event; returns its id. `validate=False` sends raw input as-is (testing the
        worker's own rejection path); it is still JSON text on the wire."""
        if isinstance(event, CampaignEvent):
            body, event_id = event.canonical_json(), event.event_id
        elif validate:
            parsed = parse_event(event)
            if isinstance(parsed, Rejection):
                raise InvalidEvent(parsed)
            body, event_id = parsed.canonical_json(), parsed.event_id
        else:
            if isinstance(event, bytes):
                body = event.decode("utf-8", "replace")
            else:
                body = event if isinstance(event, str) else json.dumps(event)
            event_id = None
        try:
            kwargs: dict[str, Any] = {"published_at": time.time()}
            if self._hmac_key:
                kwargs["signature"] = sign(body, self._hmac_key)
            self._app.send_task(PROCESS_EVENT_TASK, args=[body], kwargs=kwargs,
                                queue=GENERATE_QUEUE,
                                retry=True, retry_policy=self._retry_policy)
        except Exception as exc:  # kombu raises several types; callers get one
            raise PublishError(f"broker did not accept event {event_id}: {exc}") from exc
        return event_id

    def close(self) -> None:
        self._app.close()


@lru_cache(maxsize=1)
def default_publisher() -> Publisher:
    return Publisher()


def publish(event: CampaignEvent | dict[str, Any] | str | bytes) -> str | None:
    return default_publisher().publish(event)
