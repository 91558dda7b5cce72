"""The render hand-off is accepted only when sealed by our generate stage for a live claim."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from shared.db.engine import session_scope
from shared.db.models import Creative, Event, RejectedEvent
from shared.handoff import seal
from shared.personalize import plan_event
from shared.pipeline import Context, handle_event_task, handle_handoff
from shared.samples import sample_events
from shared.signing import sign

KEY = "worker-key-" + "x" * 32


@pytest.fixture
def split(ctx: Context) -> tuple[Context, list[dict[str, Any]]]:
    """The generate side of a split deployment: hand-offs are collected, not sent."""
    sent: list[dict[str, Any]] = []
    ctx.limits = replace(ctx.limits, worker_key=KEY)
    ctx.handoff = sent.append
    return ctx, sent


def _images(event_json: str) -> dict[tuple[int, int], Image.Image]:
    from shared.events import CampaignEvent

    plan = plan_event(CampaignEvent.model_validate_json(event_json))
    return {r.key: Image.new("RGB", (64, 64), (200, 30, 30)) for r in plan.images}


def _state(ctx: Context, event_id: str) -> tuple[str | None, int, int]:
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, event_id)
        n = s.execute(
            select(func.count()).select_from(Creative).where(Creative.event_id == event_id)
        ).scalar_one()
        rej = s.execute(
            select(func.count())
            .select_from(RejectedEvent)
            .where(RejectedEvent.event_id == event_id)
        ).scalar_one()
    return (row.status if row else None), int(n), int(rej)


def _render(ctx: Context, message: Any) -> str:
    ctx.handoff = None  # the render side
    return handle_handoff([message], {}, ctx).status


def test_genuine_handoff_is_produced(split: tuple[Context, list[dict[str, Any]]]) -> None:
    ctx, sent = split
    ev = sample_events("h")[0]
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "handed_off"
    assert _state(ctx, ev.event_id)[:2] == ("processing", 0)
    assert _render(ctx, sent[0]) == "done"
    assert _state(ctx, ev.event_id) == ("done", ev.creative_count, 0)
    assert _render(ctx, sent[0]) == "rejected"  # a replay after the event finished
    assert _state(ctx, ev.event_id)[:2] == ("done", ev.creative_count)


def test_forged_handoffs_plant_nothing(split: tuple[Context, list[dict[str, Any]]]) -> None:
    ctx, sent = split
    ev = sample_events("forge")[0]
    body = ev.canonical_json()
    images = _images(body)
    forged = [
        {"event": body, "images": {}, "generate_ms": 0},  # the old, unsealed format
        seal(ev, 1, images, 0.0, "a-producers-guess"),  # wrong key
        {**seal(ev, 1, images, 0.0, KEY), "attempt": 2},  # altered after sealing
        {**seal(ev, 1, images, 0.0, KEY), "mac": "é"},  # compare_digest raises on non-ASCII
        "not even a dict",
    ]
    for message in forged:
        assert _render(ctx, message) == "rejected"
    # Sealed with the right key but for an event no generate worker claimed.
    assert _render(ctx, seal(ev, 1, images, 0.0, KEY)) == "rejected"
    assert ctx.store.list("creatives/") == []  # no orphan objects
    with session_scope(ctx.ledger.db_url) as s:
        reasons = s.execute(select(RejectedEvent.reason)).scalars().all()
        assert s.get(Event, ev.event_id) is None  # a refused hand-off claims nothing
    assert len(reasons) == len(forged) + 1
    assert all(r.startswith("render hand-off refused") for r in reasons)
    assert any("MAC does not verify" in r for r in reasons)
    assert any("no generate worker claimed" in r for r in reasons)


def test_a_rejected_event_cannot_be_flipped_to_done(
    split: tuple[Context, list[dict[str, Any]]],
) -> None:
    """Signing on: an unsigned event is rejected; a hand-off for it must not make it done."""
    ctx, sent = split
    ctx.limits = replace(ctx.limits, event_hmac_key="publisher-key")
    ev = sample_events("unsigned")[0]
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "rejected"
    assert _render(ctx, seal(ev, 1, _images(ev.canonical_json()), 0.0, KEY)) == "rejected"
    assert _state(ctx, ev.event_id)[:2] == ("rejected", 0)
    # The signed original is still welcome: the rejection did not claim its id.
    signed = {"signature": sign(ev.canonical_json(), "publisher-key")}
    ctx.handoff = None
    assert handle_event_task([ev.canonical_json()], signed, ctx).status == "done"


def test_stale_attempt_is_refused(split: tuple[Context, list[dict[str, Any]]]) -> None:
    ctx, sent = split
    ev = sample_events("stale")[0]
    handle_event_task([ev.canonical_json()], {}, ctx)
    with session_scope(ctx.ledger.db_url) as s:  # the first generate worker died; redelivered
        s.get(Event, ev.event_id).status = "processing"  # type: ignore[union-attr]
    handle_event_task([ev.canonical_json()], {}, ctx)
    assert [m["attempt"] for m in sent] == [1, 2]
    assert _render(ctx, sent[0]) == "rejected"
    assert _render(ctx, sent[1]) == "done"
