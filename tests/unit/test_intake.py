"""The front door: every shape of delivery becomes an event or a rejection with a reason."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.events import Rejection
from shared.intake import Admitted, admit
from shared.samples import sample_events
from shared.signing import sign

BODY = sample_events("in")[0].canonical_json()
NOW = time.time()


def _admit(
    args: list[Any], kwargs: dict[str, Any] | None = None, key: str | None = None
) -> Admitted | Rejection:
    return admit(args, kwargs or {}, hmac_key=key, payload_cap=4096, now=NOW)


@pytest.mark.parametrize(
    ("args", "kwargs", "reason"),
    [
        ([], {}, "no event"),
        ([42], {}, "not int"),
        ([None], {}, "not NoneType"),
        ([[1, 2, 3]], {}, "not list"),
        ([BODY, 1.0, None, "x"], {}, "4 positional"),
        ([BODY], {"colour": "red"}, "unknown task argument(s): colour"),
        ([BODY, 1.0], {"published_at": 2.0}, "both by position and by name"),
        (["{not json"], {}, "not JSON"),
        ([b"\xff\xfe{}"], {}, "not UTF-8"),
    ],
)
def test_malformed_deliveries_are_rejected_with_a_reason(
    args: list[Any], kwargs: dict[str, Any], reason: str
) -> None:
    out = _admit(args, kwargs)
    assert isinstance(out, Rejection), out
    assert reason in out.reason


def test_unknown_kwarg_rejection_keeps_the_readable_event_id() -> None:
    out = _admit([BODY], {"extra": 1})
    assert isinstance(out, Rejection) and out.event_id == sample_events("in")[0].event_id


@pytest.mark.parametrize(
    "published_at", ["2026-11-30T10:00:00Z", None, True, float("nan"), 1e18, -5]
)
def test_a_bad_publish_time_never_loses_a_valid_event(published_at: Any) -> None:
    out = _admit([BODY], {"published_at": published_at})
    assert isinstance(out, Admitted) and out.published_at is None


def test_publish_time_and_legacy_positional_form() -> None:
    assert _admit([BODY], {"published_at": NOW - 2}).published_at == NOW - 2  # type: ignore[union-attr]
    out = _admit([BODY, NOW - 1])
    assert isinstance(out, Admitted) and out.published_at == NOW - 1
    assert isinstance(_admit([], {"raw": BODY}), Admitted)


def test_body_as_object_text_or_bytes() -> None:
    import json

    for body in (BODY, BODY.encode(), json.loads(BODY)):
        assert isinstance(_admit([body]), Admitted)


def test_signature_is_checked_once_at_the_door() -> None:
    key = "k" * 32
    ok = _admit([BODY], {"signature": sign(BODY, key)}, key=key)
    assert isinstance(ok, Admitted)
    tampered = BODY.replace('"count":1', '"count":2')
    for args, kwargs, reason in (
        ([BODY], {}, "not signed"),
        ([BODY], {"signature": 12}, "not signed"),
        ([tampered], {"signature": sign(BODY, key)}, "does not match"),
        ([BODY], {"signature": sign(BODY, "other-key")}, "does not match"),
        ([__import__("json").loads(BODY)], {"signature": sign(BODY, key)}, "JSON text"),
    ):
        out = _admit(args, kwargs, key=key)
        assert isinstance(out, Rejection) and reason in out.reason, (args, out)
