"""The front door: every shape of delivery becomes an event or a rejection with a reason."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.events import REASON_CHARS, Rejection
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


# Found by a hostile-producer audit (session 15): each of these raised out of the front door,
# or let an empty title or a multi-line reason through.


def _doc(**changes: Any) -> dict[str, Any]:
    doc = json.loads(BODY)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return doc


def test_a_non_ascii_signature_is_refused_not_raised() -> None:
    out = _admit([BODY], {"signature": "hmac-sha256:é"}, key="k")
    assert isinstance(out, Rejection) and "does not match" in out.reason


@pytest.mark.parametrize("published_at", [10**400, -(10**400)], ids=["huge", "-huge"])
def test_an_int_beyond_any_float_as_publish_time_is_dropped(published_at: int) -> None:
    for out in (_admit([BODY], {"published_at": published_at}), _admit([BODY, published_at])):
        assert isinstance(out, Admitted) and out.published_at is None


@pytest.mark.parametrize(
    "reason_source",
    [
        {"a\nFAKE LOG LINE": 1},  # an unknown field's name is quoted in the reason
        {"a\x00b": 1},  # PostgreSQL text refuses NUL
        {"x" * 100_000: 1},
    ],
)
def test_a_reason_is_one_printable_bounded_line(reason_source: dict[str, Any]) -> None:
    out = _admit([json.dumps({**_doc(), **reason_source})])
    assert isinstance(out, Rejection)
    assert out.reason.isprintable() and len(out.reason) <= REASON_CHARS
    assert out.event_id == json.loads(BODY)["event_id"]


def test_an_unknown_task_argument_name_cannot_break_the_reason_line() -> None:
    out = _admit([BODY], {"x\nFAKE\x00": 1})
    assert isinstance(out, Rejection) and out.reason.isprintable()
    assert "x\\nFAKE\\x00" in out.reason


def test_an_object_body_has_the_same_size_limit_as_text() -> None:
    out = _admit([_doc(products__0__description="d" * 100_000)])
    assert isinstance(out, Rejection) and "exceeds" in out.reason
    assert out.event_id == json.loads(BODY)["event_id"]


def test_an_object_body_nested_too_deep_to_write_is_refused() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = {"a": deep}
    out = _admit([_doc(products__0__title=deep)])
    assert isinstance(out, Rejection) and "cannot be read" in out.reason


@pytest.mark.parametrize("blank", ["   ", "\n\t", "\u200b\u200b", "\ufeff", " \u2028 "])
def test_required_text_of_only_spaces_or_invisible_characters_is_refused(blank: str) -> None:
    for field in ("products__0__title", "products__0__category", "audience__segment"):
        out = _admit([json.dumps(_doc(**{field: blank}))])
        assert isinstance(out, Rejection) and "must not be empty" in out.reason, (field, out)
    assert isinstance(_admit([json.dumps(_doc(products__0__brand=blank))]), Admitted)  # optional


def test_an_event_id_with_a_final_newline_is_not_read_as_an_id() -> None:
    out = _admit([json.dumps(_doc(event_id="abc\n", type="bogus"))])
    assert isinstance(out, Rejection) and out.event_id is None


def test_a_body_given_both_by_position_and_by_name_is_refused() -> None:
    other = json.dumps(_doc(event_id="other-1"))
    out = _admit([BODY], {"raw": other})
    assert isinstance(out, Rejection) and "both by position and by name" in out.reason


@pytest.mark.parametrize("count", ["5", 1.0, True])
def test_a_count_must_be_a_json_integer(count: Any) -> None:
    out = _admit([json.dumps(_doc(creative__count=count))])
    assert isinstance(out, Rejection) and "count" in out.reason


def test_unreadable_payloads_keep_the_id_they_carry() -> None:
    doc = json.loads(BODY)
    broken = BODY[:-1]  # not JSON any more, the id still readable
    assert _admit([broken]).event_id == doc["event_id"]  # type: ignore[union-attr]
    big = json.dumps(_doc(products__0__description="d" * 100_000))
    assert _admit([big]).event_id == doc["event_id"]  # type: ignore[union-attr]
