"""The front door: any delivery of a campaign event becomes a `CampaignEvent` or a `Rejection`.

Whatever reaches a worker (a Celery task's positional and keyword arguments, JSON text, bytes, a
decoded object, or garbage) passes through `admit` exactly once. It checks the delivery's shape,
the signature (when signing is on), the size and the schema, and never raises for bad input:
every message ends as an admitted event or as a rejection with a reason. Nothing downstream
parses raw input again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.events import CampaignEvent, Rejection, cap_payload, parse_event, peek_event_id
from shared.signing import verify

# Keyword arguments a publisher may attach to an event task (shared.publisher sends these).
KNOWN_KWARGS = frozenset({"published_at", "signature"})
# A publish time further than this from the worker's clock is not a real publish time.
_PLAUSIBLE_CLOCK_SKEW_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Admitted:
    event: CampaignEvent
    # Only a metric (queue wait); a malformed value is dropped rather than losing the event.
    published_at: float | None = None


def describe(value: Any, cap: int) -> str:
    """A printable, capped copy of any delivery for the rejection record."""
    if isinstance(value, (str, bytes)):
        return cap_payload(value, cap)
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return cap_payload(text, cap)


def _rejection(reason: str, body: Any, cap: int) -> Rejection:
    return Rejection(reason=reason, event_id=peek_event_id(body), payload=describe(body, cap))


def _published_at(value: Any, now: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an int beyond any float
        return None
    if not math.isfinite(seconds) or abs(seconds - now) > _PLAUSIBLE_CLOCK_SKEW_S:
        return None
    return seconds


def unpack_task_args(
    args: Sequence[Any], kwargs: Mapping[str, Any], cap: int
) -> tuple[Any, dict[str, Any]] | Rejection:
    """The event body and the publisher's keyword arguments of an event task, or why the task
    message itself is malformed (no body, several bodies, unknown keyword arguments)."""
    args, kwargs = list(args), dict(kwargs)
    if "raw" in kwargs:  # the body passed by name
        if args:
            return _rejection(
                "the event is given both by position and by name (raw)", kwargs["raw"], cap
            )
        args.insert(0, kwargs.pop("raw"))
    unknown = sorted(set(kwargs) - KNOWN_KWARGS)
    body = args[0] if args else None
    if not args:
        return Rejection(
            reason="task message carries no event (empty args)",
            payload=describe({"args": args, "kwargs": kwargs}, cap),
        )
    if len(args) > 1:
        # The first publisher versions sent (body, published_at, signature) positionally.
        if len(args) <= 3:
            extra = dict(zip(("published_at", "signature"), args[1:], strict=False))
            if set(extra) & set(kwargs):
                return _rejection("an argument is given both by position and by name", body, cap)
            kwargs.update(extra)
        else:
            return _rejection(
                f"task message has {len(args)} positional arguments, expected 1", body, cap
            )
    if unknown:
        return _rejection(f"unknown task argument(s): {', '.join(unknown)[:200]}", body, cap)
    return body, kwargs


def admit(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    hmac_key: str | None,
    payload_cap: int,
    now: float,
) -> Admitted | Rejection:
    """Turn an event task's arguments into an admitted event, or a rejection with its reason."""
    unpacked = unpack_task_args(args, kwargs, payload_cap)
    if isinstance(unpacked, Rejection):
        return unpacked
    body, extra = unpacked
    if not isinstance(body, (str, bytes, dict)):
        return _rejection(
            f"event must be JSON text or a JSON object, not {type(body).__name__}",
            body,
            payload_cap,
        )
    if hmac_key:
        signature = extra.get("signature")
        if not isinstance(body, str):
            return _rejection("signed events must be sent as JSON text", body, payload_cap)
        problem = verify(body, signature if isinstance(signature, str) else None, hmac_key)
        if problem is not None:
            return _rejection(problem, body, payload_cap)
    parsed = parse_event(body)
    if isinstance(parsed, Rejection):
        return parsed
    return Admitted(parsed, _published_at(extra.get("published_at"), now))


def admit_bundle(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    hmac_key: str | None,
    payload_cap: int,
    max_events: int,
    now: float,
) -> list[Admitted | Rejection] | Rejection:
    """A bundle task's arguments (one list of events, each as an event task's keyword arguments
    with the body as ``raw``, or as bare JSON text or object) -> each member admitted or refused
    on its own, exactly as `admit` treats a single event; or the whole delivery refused when it
    is not a bundle at all (the reason says why; nothing in it is written)."""
    if kwargs or len(args) != 1:
        return Rejection(
            reason="a bundle task takes exactly one positional argument, the list of events",
            payload=describe({"args": list(args), "kwargs": dict(kwargs)}, payload_cap),
        )
    (members,) = args
    if not isinstance(members, list):
        return Rejection(
            reason=f"a bundle must be a JSON array of events, not {type(members).__name__}",
            payload=describe(members, payload_cap),
        )
    if not members or len(members) > max_events:
        return Rejection(
            reason=f"a bundle holds 1 to {max_events} events, this one {len(members)}",
            payload=describe(members, payload_cap),
        )
    out: list[Admitted | Rejection] = []
    for member in members:
        if isinstance(member, Mapping) and "raw" in member:
            out.append(admit((), member, hmac_key=hmac_key, payload_cap=payload_cap, now=now))
        else:
            out.append(admit([member], {}, hmac_key=hmac_key, payload_cap=payload_cap, now=now))
    return out
