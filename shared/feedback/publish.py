"""Publishing feedback: what the ad server imports.

    from shared.feedback.publish import FeedbackPublisher
    pub = FeedbackPublisher()
    pub.publish_batch(events)     # FeedbackEvent objects or dicts; returns deliveries sent

Events are validated first (an invalid one raises `InvalidFeedback`, nothing is sent), then sent
in deliveries of at most `ADGEN_FEEDBACK_MAX_BATCH` events (an impression and the click and
conversion listed right after it always travel together), each one task message on the
`adgen.feedback` queue with publisher confirms (same broker settings as campaign events). The
consumer validates everything again: the broker is never trusted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from shared.config import Settings, get_settings
from shared.feedback.schema import FeedbackEvent
from shared.publisher import Publisher, PublishError
from shared.queues import FEEDBACK_QUEUE, INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK


class InvalidFeedback(ValueError):
    pass


def to_wire(
    events: Iterable[FeedbackEvent | dict[str, Any]], *, validate: bool = True
) -> list[dict[str, Any]]:
    out = []
    for i, ev in enumerate(events):
        if isinstance(ev, FeedbackEvent):
            out.append(ev.model_dump(mode="json", exclude_none=True))
        elif validate:
            try:
                out.append(
                    FeedbackEvent.model_validate(ev).model_dump(mode="json", exclude_none=True)
                )
            except ValidationError as exc:
                raise InvalidFeedback(f"event {i}: {exc.errors()[0]['msg']}") from exc
        else:
            out.append(ev)
    return out


def split_deliveries(wire: list[dict[str, Any]], max_batch: int) -> list[list[dict[str, Any]]]:
    """Deliveries of at most `max_batch` events that never separate an impression from the
    click and conversion following it: deliveries are consumed concurrently, and a click that
    overtakes its impression is rejected as an orphan. A delivery is closed before an impression
    once fewer than three places are left (an impression has at most one click and one
    conversion)."""
    out: list[list[dict[str, Any]]] = []
    cur: list[dict[str, Any]] = []
    for ev in wire:
        starts_group = ev.get("kind") == "impression"
        if cur and (len(cur) >= max_batch or (starts_group and len(cur) > max_batch - 3)):
            out.append(cur)
            cur = []
        cur.append(ev)
    if cur:
        out.append(cur)
    return out


class FeedbackPublisher(Publisher):
    def __init__(self, settings: Settings | None = None, *, max_retries: int = 5) -> None:
        super().__init__(settings, max_retries=max_retries)
        self.max_batch = (settings or get_settings()).feedback_max_batch

    def send_delivery(self, body: str) -> None:
        """One raw delivery (JSON text of an array of events), as-is."""
        try:
            self._app.send_task(
                INGEST_FEEDBACK_TASK,
                args=[body],
                kwargs={"published_at": time.time()},
                queue=FEEDBACK_QUEUE,
                retry=True,
                retry_policy=self._retry_policy,
            )
        except Exception as exc:  # kombu raises several types; callers get one
            raise PublishError(f"broker did not accept a feedback delivery: {exc}") from exc

    def publish_batch(
        self, events: Sequence[FeedbackEvent | dict[str, Any]], *, validate: bool = True
    ) -> int:
        """Validate and send; returns the number of deliveries sent."""
        deliveries = split_deliveries(to_wire(events, validate=validate), self.max_batch)
        for d in deliveries:
            self.send_delivery(json.dumps(d, separators=(",", ":")))
        return len(deliveries)

    def request_refresh(self, **kwargs: Any) -> None:
        """Ask the feedback worker for a plan refresh now (beat also runs it periodically)."""
        self._app.send_task(
            REFRESH_PLAN_TASK,
            kwargs=kwargs,
            queue=FEEDBACK_QUEUE,
            retry=True,
            retry_policy=self._retry_policy,
        )
