"""Property-based tests: any input is an event or a rejection with a reason; nothing crashes,
nothing escapes its key prefix, and hostile strings are stored verbatim, never executed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shared.config import Settings
from shared.db.engine import session_scope
from shared.db.models import Creative, Event, RejectedEvent
from shared.events import CampaignEvent, Rejection, parse_event
from shared.ids import object_key
from shared.personalize import plan_event
from shared.pipeline import Context, handle_event_task
from shared.publisher import InvalidEvent, Publisher
from shared.samples import sample_events
from shared.storage import check_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
hostile_text = st.sampled_from(
    [
        "../../etc/passwd",
        "a/../../b",
        "'; DROP TABLE events; --",
        "\x00\x01\x1b[31m",
        "<script>alert(1)</script>",
        "ｆｕｌｌｗｉｄｔｈ",
        "😀" * 300,
        "e" * 5000,
        "\u202eevil",
        "%2e%2e%2f",
        "{{7*7}}",
        "${jndi:ldap://x}",
    ]
) | st.text(max_size=300)
FIELDS = [
    ("event_id",),
    ("type",),
    ("occurred_at",),
    ("campaign", "id"),
    ("campaign", "name"),
    ("products", 0, "title"),
    ("products", 0, "sku"),
    ("products", 0, "price"),
    ("audience", "segment"),
    ("audience", "locale"),
    ("creative", "count"),
    ("creative", "sizes"),
    ("creative", "style"),
    ("schema_version",),
]


def _base() -> dict[str, Any]:
    return json.loads(sample_events("h")[0].canonical_json())


def _mutate(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_is_an_event_or_a_reasoned_rejection(value: Any) -> None:
    out = parse_event(json.dumps(value))
    assert isinstance(out, CampaignEvent | Rejection)
    if isinstance(out, Rejection):
        assert out.reason


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), json_values | hostile_text)
def test_mutated_events_never_crash_and_keys_stay_in_their_prefix(
    path: tuple[Any, ...], value: Any
) -> None:
    out = parse_event(json.dumps(_mutate(_base(), path, value)))
    if isinstance(out, Rejection):
        assert out.reason
        assert out.event_id is None or "/" not in out.event_id
        return
    prefix = f"creatives/{out.campaign.id}/{out.event_id}/"
    for cp in plan_event(out).creatives:
        key = object_key(out.campaign.id, out.event_id, cp.creative_id)
        assert key.startswith(prefix) and check_key(key) == key


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_raw_bytes_are_rejected_or_parsed(raw: bytes) -> None:
    assert isinstance(parse_event(raw), CampaignEvent | Rejection)


@settings(max_examples=100, deadline=None)
@given(json_values | hostile_text)
def test_publisher_refuses_invalid_input_before_sending(value: Any) -> None:
    pub = Publisher(Settings(broker_url="memory://"))
    try:
        assert pub.publish(value if isinstance(value, str) else json.dumps(value))
    except InvalidEvent as exc:
        assert str(exc)


def test_worker_path_survives_hostile_messages_and_stores_strings_verbatim(ctx: Context) -> None:
    hostile = [
        "not json",
        "\xff\xfe",
        "[]",
        "{}",
        json.dumps({"event_id": "../../x"}),
        "x" * 100_000,
        json.dumps({**_base(), "schema_version": 99}),
    ]
    for raw in hostile:
        assert handle_event_task([raw], {}, ctx).status == "rejected"
    doc = _base()
    doc["event_id"] = "sql-1"
    doc["products"][0]["title"] = "'; DROP TABLE events; -- <script>x</script> 😀"
    doc["campaign"]["name"] = "\u202eevil ｆｕｌｌ"
    assert handle_event_task([json.dumps(doc)], {}, ctx).status == "done"
    with session_scope(ctx.ledger.db_url) as s:
        ev = s.get(Event, "sql-1")
        assert ev is not None and ev.payload["products"][0]["title"].startswith("'; DROP")
        assert s.execute(select(Creative).where(Creative.event_id == "sql-1")).first()
        rejected = s.execute(select(RejectedEvent)).scalars().all()
        assert len(rejected) == len(hostile)
        assert all(len(r.payload.encode()) < 9000 for r in rejected)  # size-capped
    keys = ctx.store.list("")
    assert keys and all(k.startswith("creatives/") for k in keys)
