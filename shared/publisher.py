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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, Literal

from celery import Celery

from shared.config import Settings, get_settings
from shared.events import CampaignEvent, Rejection, parse_event
from shared.queues import (
    GENERATE_QUEUE,
    PROCESS_BUNDLE_TASK,
    PROCESS_EVENT_TASK,
    broker_transport_options,
)
from shared.signing import sign


class InvalidEvent(ValueError):
    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


class PublishError(RuntimeError):
    """The broker did not take the message (unreachable, or refused it)."""


def prepare(
    event: CampaignEvent | dict[str, Any] | str | bytes, validate: bool = True
) -> tuple[str, str | None]:
    """An event's wire body (canonical JSON text) and id; `InvalidEvent` when it is not valid.
    `validate=False` keeps raw input as it is (the id is then unknown)."""
    if isinstance(event, CampaignEvent):
        return event.canonical_json(), event.event_id
    if validate:
        parsed = parse_event(event)
        if isinstance(parsed, Rejection):
            raise InvalidEvent(parsed)
        return parsed.canonical_json(), parsed.event_id
    if isinstance(event, bytes):
        return event.decode("utf-8", "replace"), None
    return (event if isinstance(event, str) else json.dumps(event)), None


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
        self._bundle_max = settings.bundle_max_events

    def publish(
        self, event: CampaignEvent | dict[str, Any] | str | bytes, *, validate: bool = True
    ) -> str | None:
        """Send one event; returns its id. `validate=False` sends raw input as-is (testing the
        worker's own rejection path); it is still JSON text on the wire."""
        body, event_id = self.prepare(event, validate)
        self._send(PROCESS_EVENT_TASK, [body], self._envelope(body), event_id)
        return event_id

    def publish_bundle(
        self,
        events: Sequence[CampaignEvent | dict[str, Any] | str | bytes],
        *,
        validate: bool = True,
    ) -> list[str | None]:
        """Send several events as one message (one broker round trip, and one claim and one
        commit in the worker for all of them: what makes small events cheap). Every event is
        validated first; the first invalid one raises `InvalidEvent` and nothing is sent.
        Each event still ends on its own in the worker (done, duplicate, rejected, failed)."""
        if len(events) > self._bundle_max:
            raise ValueError(
                f"a bundle holds at most {self._bundle_max} events "
                f"(ADGEN_BUNDLE_MAX_EVENTS), got {len(events)}"
            )
        prepared = [self.prepare(e, validate) for e in events]
        if prepared:
            members = [{"raw": body, **self._envelope(body)} for body, _ in prepared]
            first = prepared[0][1] or "(unvalidated)"
            self._send(PROCESS_BUNDLE_TASK, [members], {}, f"{first} and {len(members) - 1} more")
        return [event_id for _, event_id in prepared]

    def prepare(
        self, event: CampaignEvent | dict[str, Any] | str | bytes, validate: bool = True
    ) -> tuple[str, str | None]:
        """An event's wire body and id, or `InvalidEvent` (nothing is sent)."""
        return prepare(event, validate)

    def _envelope(self, body: str) -> dict[str, Any]:
        """The publish time and (when signing is on) the body's signature."""
        kwargs: dict[str, Any] = {"published_at": time.time()}
        if self._hmac_key:
            kwargs["signature"] = sign(body, self._hmac_key)
        return kwargs

    def _send(self, task: str, args: list[Any], kwargs: dict[str, Any], what: str | None) -> None:
        try:
            self._app.send_task(
                task,
                args=args,
                kwargs=kwargs,
                queue=GENERATE_QUEUE,
                retry=True,
                retry_policy=self._retry_policy,
            )
        except Exception as exc:  # kombu raises several types; callers get one
            raise PublishError(f"broker did not accept event {what}: {exc}") from exc

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
    bundle: int = 1,
) -> PublishSummary:
    """Publish every event line, `report`ing each line's outcome. Stops at the first broker
    failure (the publisher has already retried; the rest would only wait for it too).
    `bundle` > 1: valid lines go out `bundle` at a time in one message each (a line is
    reported when its message is sent, so rejections may be reported before earlier lines)."""
    summary = PublishSummary()
    held: list[SourceLine] = []

    def tally(result: LineResult) -> bool:
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
                if summary.stopped_at is None:
                    summary.stopped_at = result.lineno
                return False
        return True

    def flush() -> bool:
        if not held:
            return True
        try:
            ids = publisher.publish_bundle([h.text for h in held], validate=validate)
        except PublishError as exc:
            results = [LineResult(h.lineno, "broker_error", str(exc)) for h in held]
        else:
            results = [
                LineResult(h.lineno, "sent", i or "") for h, i in zip(held, ids, strict=True)
            ]
        held.clear()
        return all([tally(r) for r in results])

    for line in lines:
        if bundle <= 1 or line.kind != "event":
            if not tally(_publish_one(publisher, line, validate)):
                return summary
            continue
        try:
            publisher.prepare(line.text, validate)
        except InvalidEvent as exc:
            tally(LineResult(line.lineno, "rejected", str(exc)))
            continue
        held.append(line)
        if len(held) >= bundle and not flush():
            return summary
    flush()
    return summary
