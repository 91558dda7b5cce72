"""From a raw feedback delivery to valid events and rejections with reasons. Pure; never raises.

Two steps, both pure:

- `parse_delivery`: size and shape of the batch, each event's schema, timestamps (not in the
  future, not absurdly old). Needs nothing but the clock.
- `resolve`: references. A click needs its impression, a conversion its click (inside the
  attribution window), and every event an existing creative of the campaign and size it names.
  The caller looks the references up (shared.feedback.store) and passes them in.

Rejections carry a `reason_class` (a small fixed vocabulary: metrics and analysts group by it)
and a human-readable `reason`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from shared.events import ID_PATTERN, cap_payload
from shared.feedback.schema import FEEDBACK_SCHEMA_VERSION, FeedbackEvent

REASON_CLASSES = (
    "malformed",
    "oversized_batch",
    "invalid",
    "future_timestamp",
    "too_old",
    "unknown_creative",
    "creative_mismatch",
    "orphan_click",
    "orphan_conversion",
    "outside_window",
)
PAYLOAD_CAP = 2048  # bytes of a rejected event kept for inspection


@dataclass(frozen=True)
class FeedbackRejection:
    reason_class: str
    reason: str
    feedback_id: str | None = None
    payload: str = ""


@dataclass(frozen=True)
class Limits:
    max_batch: int
    max_bytes: int
    future_skew: timedelta
    max_age: timedelta
    attribution_window: timedelta


@dataclass
class Parsed:
    events: list[FeedbackEvent] = field(default_factory=list)
    rejections: list[FeedbackRejection] = field(default_factory=list)
    duplicates: int = 0  # same id twice in one delivery (the first one stands)


@dataclass(frozen=True)
class Resolved:
    """A valid event with the impression it belongs to (aggregates count it on that day)."""

    event: FeedbackEvent
    impression_at: datetime


def _safe_id(item: Any) -> str | None:
    if isinstance(item, dict):
        fid = item.get("id")
        if isinstance(fid, str) and re.match(ID_PATTERN, fid):
            return fid
    return None


def _errors(err: ValidationError, limit: int = 3) -> str:
    parts = [
        f"{'.'.join(str(x) for x in e['loc']) or '(event)'}: {e['msg']}"
        for e in err.errors()[:limit]
    ]
    return "; ".join(parts)


def _decode(
    raw: str | bytes | list[Any] | dict[str, Any], limits: Limits
) -> list[Any] | FeedbackRejection:
    if isinstance(raw, (str, bytes)):
        if len(raw) > limits.max_bytes:
            return FeedbackRejection(
                "oversized_batch",
                f"delivery of {len(raw)} bytes exceeds the {limits.max_bytes}-byte limit",
                None,
                cap_payload(raw, PAYLOAD_CAP),
            )
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8
            return FeedbackRejection(
                "malformed", f"delivery is not JSON: {exc}", None, cap_payload(raw, PAYLOAD_CAP)
            )
    else:
        data = raw
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return FeedbackRejection(
            "malformed",
            "a delivery is a JSON array of feedback events",
            None,
            cap_payload(json.dumps(data, default=str), PAYLOAD_CAP),
        )
    if len(data) > limits.max_batch:
        return FeedbackRejection(
            "oversized_batch",
            f"delivery of {len(data)} events exceeds the {limits.max_batch}-event limit",
            None,
            cap_payload(json.dumps(data[:20], default=str), PAYLOAD_CAP),
        )
    return data


def _one(item: Any, now: datetime, limits: Limits) -> FeedbackEvent | FeedbackRejection:
    def no(cls: str, reason: str) -> FeedbackRejection:
        # Only a rejection pays for the id and the capped copy of the payload.
        return FeedbackRejection(
            cls, reason, _safe_id(item), cap_payload(json.dumps(item, default=str), PAYLOAD_CAP)
        )

    if not isinstance(item, dict):
        return no("malformed", "a feedback event is a JSON object")
    version = item.get("schema_version", FEEDBACK_SCHEMA_VERSION)
    if version != FEEDBACK_SCHEMA_VERSION:
        return no("invalid", f"unsupported schema_version {version!r}")
    try:
        ev = FeedbackEvent.model_validate(item)
    except ValidationError as exc:
        return no("invalid", f"invalid feedback: {_errors(exc)}")
    except (ValueError, TypeError, RecursionError) as exc:
        return no("invalid", f"invalid feedback: {exc}")
    if ev.occurred_at > now + limits.future_skew:
        return no(
            "future_timestamp",
            f"occurred_at {ev.occurred_at.isoformat()} is in the future (now {now.isoformat()})",
        )
    if ev.occurred_at < now - limits.max_age:
        return no(
            "too_old",
            f"occurred_at {ev.occurred_at.isoformat()} is older than {limits.max_age.days} days",
        )
    return ev


def parse_delivery(
    raw: str | bytes | list[Any] | dict[str, Any], *, now: datetime, limits: Limits
) -> Parsed:
    """Schema and time checks for one delivery (a JSON array, or one object)."""
    out = Parsed()
    try:
        data = _decode(raw, limits)
        if isinstance(data, FeedbackRejection):
            out.rejections.append(data)
            return out
        seen: set[str] = set()
        for item in data:
            got = _one(item, now, limits)
            if isinstance(got, FeedbackRejection):
                out.rejections.append(got)
            elif got.id in seen:
                out.duplicates += 1
            else:
                seen.add(got.id)
                out.events.append(got)
    except Exception as exc:  # noqa: BLE001 - a consumer must never crash on input
        out.events.clear()
        out.rejections.append(
            FeedbackRejection("malformed", f"unreadable delivery: {type(exc).__name__}: {exc}")
        )
    return out


@dataclass(frozen=True)
class ImpressionRef:
    creative_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class ClickRef:
    impression_at: datetime
    occurred_at: datetime


def _reject(ev: FeedbackEvent, cls: str, reason: str) -> FeedbackRejection:
    return FeedbackRejection(cls, reason, ev.id, cap_payload(ev.model_dump_json(), PAYLOAD_CAP))


def resolve(
    events: Iterable[FeedbackEvent],
    *,
    creatives: Mapping[str, tuple[str, str]],
    impressions: Mapping[str, ImpressionRef],
    clicks: Mapping[str, ClickRef],
    window: timedelta,
) -> tuple[list[Resolved], list[FeedbackRejection]]:
    """Check every event's references. `creatives` maps creative id -> (campaign, size);
    `impressions` and `clicks` (keyed by impression id) are those already stored. Events of one
    delivery may reference each other: impressions are resolved first, then clicks, then
    conversions."""
    order = {"impression": 0, "click": 1, "conversion": 2}
    imps = dict(impressions)
    clks = dict(clicks)
    ok: list[Resolved] = []
    bad: list[FeedbackRejection] = []
    for ev in sorted(events, key=lambda e: order[e.kind]):
        known = creatives.get(ev.creative_id)
        if known is None:
            bad.append(_reject(ev, "unknown_creative", f"unknown creative {ev.creative_id}"))
            continue
        if known != (ev.campaign, ev.size):
            bad.append(
                _reject(
                    ev,
                    "creative_mismatch",
                    f"creative {ev.creative_id} belongs to "
                    f"campaign {known[0]} size {known[1]}, not {ev.campaign} "
                    f"{ev.size}",
                )
            )
            continue
        if ev.kind == "impression":
            imps.setdefault(ev.impression_id, ImpressionRef(ev.creative_id, ev.occurred_at))
            ok.append(Resolved(ev, ev.occurred_at))
            continue
        imp = imps.get(ev.impression_id)
        if imp is None or imp.creative_id != ev.creative_id:
            what = "unknown" if imp is None else "another creative's"
            bad.append(
                _reject(
                    ev,
                    "orphan_click" if ev.kind == "click" else "orphan_conversion",
                    f"{ev.kind} on {what} impression {ev.impression_id}",
                )
            )
            continue
        if ev.kind == "click":
            clks.setdefault(ev.impression_id, ClickRef(imp.occurred_at, ev.occurred_at))
            ok.append(Resolved(ev, imp.occurred_at))
            continue
        click = clks.get(ev.impression_id)
        if click is None:
            bad.append(
                _reject(
                    ev,
                    "orphan_conversion",
                    f"conversion without a click on impression {ev.impression_id}",
                )
            )
            continue
        delay = ev.occurred_at - click.occurred_at
        if delay < timedelta(0) or delay > window:
            bad.append(
                _reject(
                    ev,
                    "outside_window",
                    f"conversion {delay} after its click; the attribution window is {window}",
                )
            )
            continue
        ok.append(Resolved(ev, imp.occurred_at))
    return ok, bad
