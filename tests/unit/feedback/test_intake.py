"""Feedback schema and intake: every bad input becomes a rejection with its reason class."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.feedback.intake import ClickRef, ImpressionRef, Limits, parse_delivery, resolve

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CID = "6f1c7a52-3b0e-4f7e-9a51-2d3c8e9b7a10"
OTHER = "00000000-0000-4000-8000-000000000001"
LIMITS = Limits(
    max_batch=5,
    max_bytes=10_000,
    future_skew=timedelta(minutes=5),
    max_age=timedelta(days=30),
    attribution_window=timedelta(hours=72),
)
CREATIVES = {CID: ("camp", "300x250"), OTHER: ("camp", "300x250")}


def ev(kind: str = "impression", imp: str = "imp-1", **over: Any) -> dict[str, Any]:
    base = {
        "id": imp if kind == "impression" else f"{imp}-{kind}",
        "kind": kind,
        "impression_id": imp,
        "creative_id": CID,
        "campaign": "camp",
        "size": "300x250",
        "segment": "sporty",
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "selection_probability": 0.25,
    }
    return {**base, **over}


def one_rejection(item: Any) -> tuple[str, str]:
    parsed = parse_delivery([item], now=NOW, limits=LIMITS)
    assert parsed.events == [] and len(parsed.rejections) == 1
    r = parsed.rejections[0]
    return r.reason_class, r.reason


def test_valid_delivery_parses_and_dedupes_within_it() -> None:
    parsed = parse_delivery(json.dumps([ev(), ev(), ev("click")]), now=NOW, limits=LIMITS)
    assert [e.kind for e in parsed.events] == ["impression", "click"]
    assert parsed.duplicates == 1 and parsed.rejections == []


@pytest.mark.parametrize(
    ("item", "cls", "words"),
    [
        ({**ev(), "count": -3}, "invalid", "count must be 1"),
        ({**ev(), "count": 1_000_000}, "invalid", "count must be 1"),
        ({**ev("conversion"), "value": -5}, "invalid", "greater than or equal"),
        ({**ev("conversion"), "value": 1e12}, "invalid", "less than or equal"),
        ({**ev(), "value": 3.0}, "invalid", "only conversions"),
        ({**ev(), "kind": "view"}, "invalid", "kind"),
        ({**ev(), "selection_probability": 0}, "invalid", "selection_probability"),
        ({**ev(), "selection_probability": 1.5}, "invalid", "selection_probability"),
        ({**ev(), "creative_id": "../../etc"}, "invalid", "creative_id"),
        ({**ev(), "size": "1x1"}, "invalid", "unknown ad size"),
        ({**ev(), "extra": 1}, "invalid", "Extra inputs"),
        ({**ev(), "impression_id": "imp-2"}, "invalid", "must equal its id"),
        ({**ev(), "occurred_at": "2026-11-30T11:00:00"}, "invalid", "timezone"),
        ({**ev(), "schema_version": 2}, "invalid", "schema_version"),
        (
            {**ev(), "occurred_at": (NOW + timedelta(hours=1)).isoformat()},
            "future_timestamp",
            "future",
        ),
        ({**ev(), "occurred_at": (NOW - timedelta(days=45)).isoformat()}, "too_old", "older"),
        ("not an object", "malformed", "JSON object"),
    ],
)
def test_each_bad_event_is_rejected_with_a_reason(item: Any, cls: str, words: str) -> None:
    got_cls, reason = one_rejection(item)
    assert got_cls == cls
    assert words in reason


def test_bad_deliveries_are_rejected_whole() -> None:
    for raw, cls in [
        ("{not json", "malformed"),
        ("42", "malformed"),
        (json.dumps([ev(imp=f"i{i}") for i in range(6)]), "oversized_batch"),
        ("[" + " " * 20_000 + "]", "oversized_batch"),
        (b"\xff\xfe", "malformed"),
    ]:
        parsed = parse_delivery(raw, now=NOW, limits=LIMITS)
        assert parsed.events == []
        assert [r.reason_class for r in parsed.rejections] == [cls], raw[:20]


def test_parse_never_raises_on_hostile_input() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for raw in (deep, [None, [], {"id": {"x": 1}}], {"kind": None}):
        parsed = parse_delivery(
            raw, now=NOW, limits=Limits(**{**LIMITS.__dict__, "max_bytes": 10**6})
        )
        assert parsed.events == [] and parsed.rejections


def _events(*items: dict[str, Any]) -> list[Any]:
    parsed = parse_delivery(list(items), now=NOW, limits=LIMITS)
    assert not parsed.rejections, parsed.rejections
    return parsed.events


def _resolve(
    events: list[Any],
    impressions: dict[str, ImpressionRef] | None = None,
    clicks: dict[str, ClickRef] | None = None,
) -> tuple[list[Any], list[Any]]:
    return resolve(
        events,
        creatives=CREATIVES,
        impressions=impressions or {},
        clicks=clicks or {},
        window=LIMITS.attribution_window,
    )


def test_references_inside_one_delivery_resolve_in_any_order() -> None:
    ok, bad = _resolve(_events(ev("conversion"), ev("click"), ev()))
    assert bad == [] and [r.event.kind for r in ok] == ["impression", "click", "conversion"]
    assert {r.impression_at for r in ok} == {NOW - timedelta(hours=1)}


@pytest.mark.parametrize(
    ("item", "cls"),
    [
        (ev(creative_id="00000000-0000-4000-8000-0000000000ff"), "unknown_creative"),
        (ev(campaign="other"), "creative_mismatch"),
        (ev(size="728x90"), "creative_mismatch"),
        (ev("click"), "orphan_click"),
        (ev("click", creative_id=OTHER), "orphan_click"),  # stored impression is of CID
        (ev("conversion"), "orphan_conversion"),
    ],
)
def test_reference_problems(item: dict[str, Any], cls: str) -> None:
    stored = (
        {"imp-1": ImpressionRef(CID, NOW - timedelta(hours=2))}
        if item.get("creative_id") == OTHER
        else {}
    )
    ok, bad = _resolve(_events(item), impressions=stored)
    assert ok == [] and [b.reason_class for b in bad] == [cls]


def test_late_conversion_counts_inside_the_window_only() -> None:
    imp_at = NOW - timedelta(days=6)
    click_at = imp_at + timedelta(minutes=1)
    stored_imp = {"imp-1": ImpressionRef(CID, imp_at)}
    stored_click = {"imp-1": ClickRef(imp_at, click_at)}
    inside = ev("conversion", occurred_at=(click_at + timedelta(hours=71)).isoformat())
    ok, bad = _resolve(_events(inside), stored_imp, stored_click)
    assert bad == [] and ok[0].impression_at == imp_at  # counted on the impression's day
    outside = ev("conversion", occurred_at=(click_at + timedelta(hours=73)).isoformat())
    ok, bad = _resolve(_events(outside), stored_imp, stored_click)
    assert ok == [] and bad[0].reason_class == "outside_window"
    before = ev("conversion", occurred_at=(click_at - timedelta(minutes=1)).isoformat())
    ok, bad = _resolve(_events(before), stored_imp, stored_click)
    assert ok == [] and bad[0].reason_class == "outside_window"
