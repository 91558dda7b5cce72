from __future__ import annotations

import json
from typing import Any

import pytest

from shared.events import CampaignEvent, Rejection, parse_event
from shared.samples import sample_events


def valid() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": "evt-1",
        "type": "product_display",
        "occurred_at": "2026-11-29T10:00:00Z",
        "campaign": {"id": "c1", "advertiser_id": "a1", "name": "Winter"},
        "product": {"sku": "S1", "title": "Red handbag", "category": "bags", "price": "10.5"},
        "audience": {"segment": "luxury", "interests": ["fashion"], "locale": "en-US"},
        "creative": {"count": 2, "sizes": ["300x250", "728x90"], "style": "bold", "seed": 7},
    }


def test_valid_event_and_single_product_alias(adgen_env: dict[str, str]) -> None:
    ev = parse_event(json.dumps(valid()))
    assert isinstance(ev, CampaignEvent)
    assert ev.product.title == "Red handbag"
    assert ev.creative_count == 4


def test_payload_hash_is_stable_across_key_order(adgen_env: dict[str, str]) -> None:
    a = parse_event(valid())
    b = parse_event(dict(reversed(list(valid().items()))))
    assert isinstance(a, CampaignEvent) and isinstance(b, CampaignEvent)
    assert a.payload_hash() == b.payload_hash()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.update(type="banner"), "type"),
        (lambda d: d["creative"].update(count=0), "count"),
        (lambda d: d["creative"].update(count=10_000), "configured maximum"),
        (lambda d: d["creative"].update(sizes=["999x1"]), "unknown ad size"),
        (lambda d: d["creative"].update(sizes=["300x250", "300x250"]), "unique"),
        (lambda d: d.update(event_id="../../x"), "event_id"),
        (lambda d: d.update(event_id="a/b"), "event_id"),
        (lambda d: d.update(occurred_at="2026-11-29T10:00:00"), "timezone"),
        (lambda d: d["product"].update(title="x" * 201), "title"),
        (lambda d: d["product"].update(title="bad\x07bell"), "control"),
        (lambda d: d["product"].update(price="-1"), "price"),
        (lambda d: d["product"].update(currency="dollars"), "currency"),
        (lambda d: d.update(unexpected=1), "unexpected"),
        (lambda d: d.update(schema_version=2), "unsupported schema_version"),
        (lambda d: d.update(type="brand"), "brand"),
        (lambda d: d["audience"].update(interests=["x"] * 21), "interests"),
    ],
)
def test_invalid_events_are_rejected_with_reason(
    adgen_env: dict[str, str], mutate: Any, needle: str
) -> None:
    data = valid()
    mutate(data)
    out = parse_event(json.dumps(data))
    assert isinstance(out, Rejection)
    assert needle in out.reason
    assert out.payload  # kept for debugging


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xff\xfe not utf8", "UTF-8"),
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ("x" * 70_000, "exceeds"),
    ],
)
def test_raw_garbage_is_rejected(adgen_env: dict[str, str], raw: str | bytes, needle: str) -> None:
    out = parse_event(raw)
    assert isinstance(out, Rejection)
    assert needle in out.reason
    assert len(out.payload.encode()) < 9000


def test_rejection_keeps_a_safe_event_id_only(adgen_env: dict[str, str]) -> None:
    data = valid()
    data["creative"]["count"] = 0
    out = parse_event(data)
    assert isinstance(out, Rejection) and out.event_id == "evt-1"
    data["event_id"] = "../etc/passwd"
    out = parse_event(data)
    assert isinstance(out, Rejection) and out.event_id is None


def test_count_limit_follows_settings(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import set_env

    set_env(monkeypatch, adgen_env, ADGEN_MAX_CREATIVES_PER_EVENT="1")
    out = parse_event(valid())
    assert isinstance(out, Rejection) and "maximum 1" in out.reason


def test_sample_events_cover_all_types(adgen_env: dict[str, str]) -> None:
    evs = sample_events("t")
    assert {e.type for e in evs} == {"product_display", "cart", "recommendation", "brand"}


def test_peek_event_id_reads_only_safe_ids() -> None:
    from shared.events import peek_event_id

    assert peek_event_id('{"event_id":"evt-1","type":"cart"}') == "evt-1"
    assert peek_event_id(b'{"event_id": "a.b:c"}') == "a.b:c"
    assert peek_event_id({"event_id": "x1"}) == "x1"
    assert peek_event_id('{"event_id":"../../x"}') is None
    assert peek_event_id("not json") is None and peek_event_id(42) is None


def test_peek_event_ids_reads_each_member_of_a_bundle() -> None:
    from shared.events import peek_event_ids

    bundle = [
        '{"event_id":"e1"}',
        {"raw": '{"event_id":"e2"}', "published_at": 1.0},
        {"event_id": "e3"},
        {"raw": '{"event_id":"../x"}'},
        42,
    ]
    assert peek_event_ids(bundle) == ["e1", "e2", "e3"]
    assert peek_event_ids('{"event_id":"solo"}') == ["solo"]
    assert peek_event_ids(None) == [] and peek_event_ids([]) == []
    assert len(peek_event_ids(['{"event_id":"e"}'] * 100, limit=5)) == 5


def test_a_bundle_logs_its_first_ids_and_how_many_more() -> None:
    from workers.logs import event_label

    assert event_label([]) == "-"
    assert event_label(["a"]) == "a"
    assert event_label(["a", "b", "c"]) == "a,b,c"
    assert event_label(["a", "b", "c", "d", "e"]) == "a,b,c+2"
