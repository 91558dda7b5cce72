"""Publishing campaign events: what the ad backend imports.

    from shared.publisher import publish
    publish(event)          # CampaignEvent, dict or JSON text; returns the event id

Events are validated first (an invalid event raises `InvalidEvent` with the reason, and nothing
is sent). On AMQP the broker confirms each message, so a returned call means the broker has it;
when the broker stays unreachable past the retry policy the call raises — never a silent drop.
Messages are JSON; nothing is pickled.

`publish_lines(publisher, read_lines(stream))` sends a JSON-lines file (what `adgen publish`
runs): every line stands on its own, so one bad line never stops the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, Literal

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
        self._app = Celery(
            "adgen-publisher", broker=settings.resolved_broker_url, set_as_current=False
        )
        self._app.conf.update(
            task_serializer="json",
            accept_content=["json"],
            broker_transport_options=broker_transport_options(settings),
            broker_connection_retry_on_startup=True,
        )
        key = settings.event_hmac_key
        self._hmac_key = key.get_secret_value() if key is not None else None
        self._retry_policy = {
            "max_retries": max_retries,
            "interval_start": 0.5,
            "interval_step": 1.0,
            "interval_max": 5.0,
        }

    def publish(
        self, event: CampaignEvent | dict[str, Any] | str | bytes, *, validate: bool = True
    ) -> str | None:
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
            self._app.send_task(
                PROCESS_EVENT_TASK,
                args=[body],
                kwargs=kwargs,
                queue=GENERATE_QUEUE,
                retry=True,
                retry_policy=self._retry_policy,
            )
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


# A longer line could never be sent: it is the broker's max_message_size (docker/compose.yaml).
# Reading stops there, so a huge line is not held in memory whole.
MAX_LINE_BYTES = 1 << 20

LineKind = Literal["event", "blank", "undecodable", "too_long"]


@dataclass(frozen=True)
class SourceLine:
    lineno: int
    kind: LineKind
    text: str = ""  # the decoded line, for kind "event"
    detail: str = ""  # why it is not an event


def _decode(raw: bytes, lineno: int) -> SourceLine:
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        return SourceLine(lineno, "undecodable", detail=f"not UTF-8 (byte 0x{bad} at {exc.start})")
    if not text.strip():
        return SourceLine(lineno, "blank")
    return SourceLine(lineno, "event", text=text.strip())


def read_lines(stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[SourceLine]:
    """Each line of a byte stream, decoded on its own: an undecodable or overlong line is
    reported by number and the next line is read as usual."""
    lineno = 0
    while raw := stream.readline(max_bytes + 1):
        lineno += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while (rest := stream.readline(max_bytes)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the overlong line
            yield SourceLine(lineno, "too_long", detail=f"longer than {max_bytes} bytes")
            continue
        yield _decode(raw.rstrip(b"\r\n"), lineno)


Outcome = Literal["sent", "rejected", "blank", "undecodable", "broker_error"]


@dataclass(frozen=True)
class LineResult:
    lineno: int
    outcome: Outcome
    detail: str = ""  # the event id when sent, else the reason


@dataclass
class PublishSummary:
    sent: int = 0
    rejected: int = 0  # invalid events and overlong lines
    blank: int = 0
    undecodable: int = 0
    stopped_at: int | None = None  # the line the broker failed on; it and later lines unsent

    @property
    def exit_code(self) -> int:
        """0 all sent (blank lines are not errors), 2 some lines rejected, 3 broker failure."""
        if self.stopped_at is not None:
            return 3
        return 2 if self.rejected or self.undecodable else 0


def _publish_one(publisher: Publisher, line: SourceLine, validate: bool) -> LineResult:
    if line.kind == "blank":
        return LineResult(line.lineno, "blank")
    if line.kind == "undecodable":
        return LineResult(line.lineno, "undecodable", line.detail)
    if line.kind == "too_long":
        return LineResult(line.lineno, "rejected", line.detail)
    try:
        event_id = publisher.publish(line.text, validate=validate)
    except InvalidEvent as exc:
        return LineResult(line.lineno, "rejected", str(exc))
    except PublishError as exc:
        return LineResult(line.lineno, "broker_error", str(exc))
    return LineResult(line.lineno, "sent", event_id or "")


def publish_lines(
    publisher: Publisher,
    lines: Iterator[SourceLine],
    *,
    validate: bool = True,
    report: Callable[[LineResult], None] = lambda _: None,
) -> PublishSummary:
    """Publish every event line, `report`ing each line's outcome. Stops at the first broker
    failure (the publisher has already retried; the rest would only wait for it too)."""
    summary = PublishSummary()
    for line in lines:
        result = _publish_one(publisher, line, validate)
        report(result)
        match result.outcome:
            case "sent":
                summary.sent += 1
            case "rejected":
                summary.rejected += 1
            case "blank":
                summary.blank += 1
            case "undecodable":
                summary.undecodable += 1
            case "broker_error":
                summary.stopped_at = line.lineno
                break
    return summary
