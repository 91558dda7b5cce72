"""Bundles: several events in one delivery, each admitted, claimed and recorded on its own
(no Celery or servers: SQLite, a local object store, the tiny model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db.engine import session_scope
from shared.db.migrate import upgrade
from shared.db.models import Creative, Event, RejectedEvent
from shared.events import CampaignEvent
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, Limits, handle_bundle_task, handle_event_task
from shared.samples import sample_events
from shared.signing import sign
from shared.storage import ObjectStore, StorageError, open_store


def _count(db: str, model: Any, **where: Any) -> int:
    with session_scope(db) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.execute(q).scalar_one())


def _status(ctx: Context, event_id: str) -> str | None:
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, event_id)
        return None if row is None else row.status


def _member(ev: CampaignEvent, key: str | None = None) -> dict[str, Any]:
    body = ev.canonical_json()
    member: dict[str, Any] = {"raw": body, "published_at": 1.0}
    if key:
        member["signature"] = sign(body, key)
    return member


def _bundle(*events: CampaignEvent) -> list[list[dict[str, Any]]]:
    return [[_member(e) for e in events]]


def test_every_event_of_a_bundle_is_produced_and_recorded(ctx: Context) -> None:
    events = sample_events("b")
    outcomes = handle_bundle_task(_bundle(*events), {}, ctx)
    assert [(o.status, o.event_id) for o in outcomes] == [("done", e.event_id) for e in events]
    assert [o.creatives for o in outcomes] == [e.creative_count for e in events]
    for e in events:
        assert _status(ctx, e.event_id) == "done"
        assert _count(ctx.ledger.db_url, Creative, event_id=e.event_id) == e.creative_count
        assert len(ctx.store.list(f"creatives/{e.campaign.id}/{e.event_id}/")) == e.creative_count
    # Delivered again (a redelivery of the whole message): every event is a duplicate.
    again = handle_bundle_task(_bundle(*events), {}, ctx)
    assert {o.status for o in again} == {"duplicate"}
    assert _count(ctx.ledger.db_url, Creative) == sum(e.creative_count for e in events)


def test_a_bundled_event_gives_the_bytes_it_gives_alone(
    ctx: Context, tmp_path: Path, tiny_runtime: GeneratorRuntime
) -> None:
    """Same ids, seeds and model: one event's creatives do not depend on how it travelled."""
    events = sample_events("same", count=2)
    handle_bundle_task(_bundle(*events), {}, ctx)
    db = f"sqlite:///{tmp_path / 'alone.sqlite3'}"
    upgrade(db)
    store = open_store((tmp_path / "alone").as_uri())
    store.ensure_bucket()
    alone = Context.local(db, store, tiny_runtime, worker="alone")
    for e in events:
        assert handle_event_task([e.canonical_json()], {}, alone).status == "done"
    keys = ctx.store.list("creatives/")
    assert keys == store.list("creatives/") and keys
    assert [ctx.store.get(k) for k in keys] == [store.get(k) for k in keys]


def test_bad_members_are_refused_one_by_one_and_the_rest_produced(ctx: Context) -> None:
    good, other = sample_events("g", count=2)[:2]
    bad = json.loads(good.canonical_json())
    bad["event_id"] = "bad-1"
    bad["creative"]["sizes"] = ["1x1"]
    members: list[Any] = [
        _member(good),
        {"raw": json.dumps(bad)},
        42,
        {"raw": other.canonical_json(), "surprise": True},
        other.canonical_json(),  # bare JSON text is a member too
    ]
    outcomes = handle_bundle_task([members], {}, ctx)
    statuses = [o.status for o in outcomes]
    assert statuses == ["done", "rejected", "rejected", "rejected", "done"]
    assert "unknown ad size" in outcomes[1].detail
    assert "JSON text or a JSON object" in outcomes[2].detail
    assert "unknown task argument" in outcomes[3].detail
    assert _status(ctx, good.event_id) == _status(ctx, other.event_id) == "done"
    assert _count(ctx.ledger.db_url, RejectedEvent) == 3
    assert _status(ctx, "bad-1") == "rejected"
    assert len(ctx.dead) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "kwargs", "why"),
    [
        ([], {}, "exactly one positional argument"),
        (["{}"], {}, "JSON array of events, not str"),
        ([{"raw": "{}"}], {}, "JSON array of events, not dict"),
        ([[]], {}, "1 to 4 events, this one 0"),
        ([[{"raw": "{}"}] * 5], {}, "1 to 4 events, this one 5"),
        ([[]], {"signature": "x"}, "exactly one positional argument"),
        ([[], []], {}, "exactly one positional argument"),
    ],
)
def test_a_delivery_that_is_not_a_bundle_is_one_recorded_rejection(
    ctx: Context, args: list[Any], kwargs: dict[str, Any], why: str
) -> None:
    ctx.limits = Limits(bundle_max_events=4)
    (outcome,) = handle_bundle_task(args, kwargs, ctx)
    assert outcome.status == "rejected" and why in outcome.detail
    assert _count(ctx.ledger.db_url, RejectedEvent) == 1
    assert _count(ctx.ledger.db_url, Event) == 0  # nothing else written


def test_an_event_repeated_in_one_bundle_is_claimed_once(ctx: Context) -> None:
    ev = sample_events("rep")[0]
    changed = json.loads(ev.canonical_json())
    changed["products"][0]["title"] = "Something else"
    outcomes = handle_bundle_task(
        [[_member(ev), _member(ev), {"raw": json.dumps(changed)}]], {}, ctx
    )
    assert [o.status for o in outcomes] == ["done", "duplicate", "rejected"]
    assert "different payload" in outcomes[2].detail
    assert _count(ctx.ledger.db_url, Creative, event_id=ev.event_id) == ev.creative_count
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, ev.event_id)
        assert row is not None and row.attempts == 1 and row.status == "done"


class _FlakyFor:
    """A store whose uploads fail (transiently) for one event's objects."""

    def __init__(self, inner: ObjectStore, event_id: str) -> None:
        self.inner, self.event_id, self.down = inner, event_id, True

    def put(self, key: str, *a: Any, **k: Any) -> Any:
        if self.down and f"/{self.event_id}/" in key:
            raise StorageError("S3 unreachable")
        return self.inner.put(key, *a, **k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_transient_error_in_one_event_is_raised_after_the_others_finish(ctx: Context) -> None:
    first, second, third = sample_events("tr", count=3)[:3]
    flaky = _FlakyFor(ctx.store, second.event_id)
    ctx.store = flaky  # type: ignore[assignment]
    with pytest.raises(StorageError):
        handle_bundle_task(_bundle(first, second, third), {}, ctx)
    assert _status(ctx, first.event_id) == _status(ctx, third.event_id) == "done"
    assert _status(ctx, second.event_id) == "processing"
    with session_scope(ctx.ledger.db_url) as s:
        assert "transient" in (s.get(Event, second.event_id).last_error or "")  # type: ignore[union-attr]
    # The retry (Celery redelivers the same message) finishes the one left.
    flaky.down = False
    outcomes = handle_bundle_task(_bundle(first, second, third), {}, ctx, retries=1)
    assert [o.status for o in outcomes] == ["duplicate", "done", "duplicate"]


def test_a_retried_bundle_does_not_record_its_refused_members_twice(ctx: Context) -> None:
    good, flaky_one = sample_events("rr", count=2)[:2]
    changed = json.loads(good.canonical_json())
    changed["products"][0]["title"] = "Something else"
    members: list[Any] = [
        _member(good),
        42,
        _member(flaky_one),
        {"raw": json.dumps(changed)},
    ]
    flaky = _FlakyFor(ctx.store, flaky_one.event_id)
    ctx.store = flaky  # type: ignore[assignment]
    with pytest.raises(StorageError):
        handle_bundle_task([members], {}, ctx)
    assert _count(ctx.ledger.db_url, RejectedEvent) == 2
    assert len(ctx.dead) == 2  # type: ignore[attr-defined]
    flaky.down = False
    outcomes = handle_bundle_task([members], {}, ctx, retries=1)
    assert [o.status for o in outcomes] == ["duplicate", "rejected", "done", "rejected"]
    assert "JSON text or a JSON object" in outcomes[1].detail
    assert "different payload" in outcomes[3].detail
    assert _count(ctx.ledger.db_url, RejectedEvent) == 2  # the first delivery's, no more
    assert len(ctx.dead) == 2  # type: ignore[attr-defined]


def test_on_the_last_try_a_transient_error_fails_only_its_event(ctx: Context) -> None:
    first, second = sample_events("lt", count=2)[:2]
    ctx.store = _FlakyFor(ctx.store, first.event_id)  # type: ignore[assignment]
    outcomes = handle_bundle_task(_bundle(first, second), {}, ctx, last_try=True)
    assert [o.status for o in outcomes] == ["failed", "done"]
    assert "gave up after retries" in outcomes[0].detail
    assert _status(ctx, first.event_id) == "failed"


def test_a_non_transient_error_fails_its_event_alone(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.pipeline as pipeline

    events = sample_events("nt", count=2)[:3]
    real = pipeline.make_result

    def boom(event: CampaignEvent, *a: Any, **k: Any) -> Any:
        if event.event_id == events[1].event_id:
            raise RuntimeError("compose exploded")
        return real(event, *a, **k)

    monkeypatch.setattr(pipeline, "make_result", boom)
    outcomes = handle_bundle_task(_bundle(*events), {}, ctx)
    assert [o.status for o in outcomes] == ["done", "failed", "done"]
    assert "compose exploded" in outcomes[1].detail
    assert _status(ctx, events[1].event_id) == "failed"


def test_signed_bundles_verify_each_member(ctx: Context) -> None:
    key = "k" * 32
    ctx.limits = Limits(event_hmac_key=key)
    good, forged = sample_events("sig", count=2)[:2]
    tampered = _member(forged, key)
    tampered["raw"] = tampered["raw"].replace(forged.products[0].title, "Planted")
    outcomes = handle_bundle_task([[_member(good, key), tampered, _member(forged)]], {}, ctx)
    assert [o.status for o in outcomes] == ["done", "rejected", "rejected"]
    assert _count(ctx.ledger.db_url, Creative, event_id=forged.event_id) == 0


def test_a_redelivered_bundle_runs_its_events_one_by_one(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.pipeline as pipeline

    groups: list[int] = []
    real = pipeline.run_events

    def spy(events: Any, *a: Any, **k: Any) -> Any:
        groups.append(len(events))
        return real(events, *a, **k)

    monkeypatch.setattr(pipeline, "run_events", spy)
    events = sample_events("obo", count=2)[:3]
    outcomes = handle_bundle_task(_bundle(*events), {}, ctx, one_by_one=True)
    assert [o.status for o in outcomes] == ["done"] * 3 and groups == [1, 1, 1]
    handle_bundle_task(_bundle(*events), {}, ctx)
    assert groups[-1] == 3  # a first delivery runs them together
