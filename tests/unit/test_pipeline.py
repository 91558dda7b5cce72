"""The worker path without Celery: SQLite + a local object store + a tiny seeded model."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from shared.db.engine import session_scope
from shared.db.models import Creative, Event, RejectedEvent
from shared.deadline import DeadlineExceeded
from shared.encoding import Encoding
from shared.pipeline import Context, Limits, handle_event_task
from shared.samples import sample_events
from shared.storage import StorageError


def _count(db: str, model: Any, **where: Any) -> int:
    with session_scope(db) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.execute(q).scalar_one())


def test_event_yields_pngs_and_rows(ctx: Context) -> None:
    for ev in sample_events("p"):
        out = handle_event_task([ev.canonical_json()], {}, ctx)
        assert out.status == "done", out
        assert out.creatives == ev.creative_count
        keys = ctx.store.list(f"creatives/{ev.campaign.id}/{ev.event_id}/")
        assert len(keys) == ev.creative_count
        img = Image.open(io.BytesIO(ctx.store.get(keys[0])))
        assert img.format == "PNG"
        assert f"{img.width}x{img.height}" in {s for s in ev.creative.sizes}
    with session_scope(ctx.ledger.db_url) as s:
        row = s.execute(select(Creative).limit(1)).scalar_one()
        assert row.prompt and row.model_version_id and row.model_version_id.startswith("sha256:")


def test_redelivery_is_idempotent(ctx: Context) -> None:
    ev = sample_events("r", count=2)[0]
    first = handle_event_task([ev.canonical_json()], {}, ctx)
    keys = ctx.store.list("creatives/")
    blobs = [ctx.store.get(k) for k in keys]
    again = handle_event_task([ev.canonical_json()], {}, ctx)
    assert (first.status, again.status) == ("done", "duplicate")
    assert _count(ctx.ledger.db_url, Creative, event_id=ev.event_id) == ev.creative_count
    assert ctx.store.list("creatives/") == keys
    assert [ctx.store.get(k) for k in keys] == blobs


def test_unfinished_event_is_reprocessed_into_the_same_set(ctx: Context) -> None:
    """A worker died mid-event: the row says processing; redelivery finishes with one set."""
    ev = sample_events("u")[2]
    handle_event_task([ev.canonical_json()], {}, ctx)
    keys = ctx.store.list("creatives/")
    blobs = [ctx.store.get(k) for k in keys]
    with session_scope(ctx.ledger.db_url) as s:
        s.get(Event, ev.event_id).status = "processing"  # type: ignore[union-attr]
    # The dead worker had uploaded only some objects: lose the others, so the redelivery must
    # regenerate them (not merely leave the first run's bytes in place).
    root = Path(ctx.store.root)  # type: ignore[attr-defined]
    for k in keys[1:]:
        (root / k).unlink()
    out = handle_event_task([ev.canonical_json()], {}, ctx)
    assert out.status == "done"
    assert ctx.store.list("creatives/") == keys
    assert [ctx.store.get(k) for k in keys] == blobs  # seeded: identical bytes
    assert _count(ctx.ledger.db_url, Creative) == ev.creative_count


def test_invalid_event_rejected_recorded_and_dead_lettered(ctx: Context) -> None:
    good = sample_events("g")[0]
    bad = json.loads(good.canonical_json())
    bad["event_id"] = "bad-1"
    bad["creative"]["sizes"] = ["1x1"]
    out = handle_event_task([json.dumps(bad)], {}, ctx)
    assert out.status == "rejected" and "unknown ad size" in out.detail
    assert handle_event_task([good.canonical_json()], {}, ctx).status == "done"  # still works after
    assert _count(ctx.ledger.db_url, RejectedEvent, event_id="bad-1") == 1
    assert _count(ctx.ledger.db_url, Event, event_id="bad-1", status="rejected") == 1
    assert ctx.dead[0]["event_id"] == "bad-1"  # type: ignore[attr-defined]


def test_duplicate_id_with_different_payload_is_rejected_not_merged(ctx: Context) -> None:
    ev = sample_events("d")[0]
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    other = json.loads(ev.canonical_json())
    other["products"][0]["title"] = "Something else"
    out = handle_event_task([json.dumps(other)], {}, ctx)
    assert out.status == "rejected" and "different payload" in out.detail
    assert _count(ctx.ledger.db_url, Creative, event_id=ev.event_id) == ev.creative_count
    with session_scope(ctx.ledger.db_url) as s:
        assert s.get(Event, ev.event_id).status == "done"  # type: ignore[union-attr]


def test_attempts_are_bounded(ctx: Context) -> None:
    """Deliveries that died (no deliberate retry) use up max_attempts, then the event fails."""
    ev = sample_events("a")[0]
    ctx.limits = Limits(max_attempts=2)
    for _ in range(2):
        handle_event_task([ev.canonical_json()], {}, ctx)
        with session_scope(ctx.ledger.db_url) as s:
            s.get(Event, ev.event_id).status = "processing"  # type: ignore[union-attr]
    out = handle_event_task([ev.canonical_json()], {}, ctx)
    assert out.status == "gave_up"
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, ev.event_id)
        assert row is not None and row.status == "failed" and "gave up" in (row.last_error or "")
    assert ctx.dead and ctx.dead[-1]["event_id"] == ev.event_id  # type: ignore[attr-defined]


def test_transient_storage_error_propagates_for_retry(ctx: Context) -> None:
    class Down:
        def put(self, *a: Any, **k: Any) -> None:
            raise StorageError("S3 unreachable")

    ctx.store = Down()  # type: ignore[assignment]
    ev = sample_events("t")[0]
    with pytest.raises(StorageError):
        handle_event_task([ev.canonical_json()], {}, ctx)
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, ev.event_id)
        assert row is not None and row.status == "processing"
        assert "transient" in (row.last_error or "")


def test_non_transient_error_fails_the_event_with_reason(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shared.pipeline as pipeline

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("generator exploded")

    monkeypatch.setattr(pipeline, "generate_images", boom)
    ev = sample_events("f")[0]
    out = handle_event_task([ev.canonical_json()], {}, ctx)
    assert out.status == "failed"
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, ev.event_id)
        assert row is not None and row.status == "failed"
        assert "generator exploded" in (row.last_error or "")


def test_invalid_first_delivery_does_not_block_the_id(ctx: Context) -> None:
    ev = sample_events("fix")[0]
    broken = json.loads(ev.canonical_json())
    broken["creative"]["sizes"] = ["1x1"]
    assert handle_event_task([json.dumps(broken)], {}, ctx).status == "rejected"
    assert _event_state(ctx, ev.event_id)[0] == "rejected"
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    assert _event_state(ctx, ev.event_id) == ("done", ev.creative_count, 1)
    # ... and once a valid payload owns the id, a different one is still refused.
    broken["creative"]["sizes"] = ["300x250"]
    broken["products"][0]["title"] = "Something else"
    assert handle_event_task([json.dumps(broken)], {}, ctx).status == "rejected"
    assert _event_state(ctx, ev.event_id)[:2] == ("done", ev.creative_count)


@pytest.mark.parametrize("args", [[], [42], [None], [[1, 2, 3]]])
def test_malformed_task_args_are_recorded_not_lost(ctx: Context, args: list[Any]) -> None:
    out = handle_event_task(args, {}, ctx)
    assert out.status == "rejected"
    with session_scope(ctx.ledger.db_url) as s:
        assert s.execute(select(func.count()).select_from(RejectedEvent)).scalar_one() == 1
    assert ctx.dead and ctx.dead[0]["reason"] == out.detail  # type: ignore[attr-defined]


def _event_state(ctx: Context, event_id: str) -> tuple[str | None, int, int]:
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, event_id)
    return (
        (row.status if row else None),
        _count(ctx.ledger.db_url, Creative, event_id=event_id),
        _count(ctx.ledger.db_url, RejectedEvent, event_id=event_id),
    )


def test_event_deadline_is_enforced_and_bounded_by_retries(ctx: Context) -> None:
    """The threads pool ignores Celery's soft limit; the pipeline's deadline does not."""
    import time as _time

    def slow(requests: list[Any], timeout: float) -> list[Any]:
        _time.sleep(timeout + 0.05)  # like a batcher wait that runs out
        raise TimeoutError("generator batch not ready")

    ctx.generate_fn = slow
    ctx.limits = Limits(deadline_s=0.2)
    ev = sample_events("slow")[0]
    with pytest.raises(DeadlineExceeded):
        handle_event_task([ev.canonical_json()], {}, ctx)
    assert _event_state(ctx, ev.event_id)[0] == "processing"  # a retry follows
    out = handle_event_task([ev.canonical_json()], {}, ctx, retries=1, last_try=True)
    assert out.status == "failed" and "deadline" in out.detail
    assert _event_state(ctx, ev.event_id)[0] == "failed"


def test_configured_format_reaches_the_object_and_the_row(ctx: Context) -> None:
    """ADGEN_CREATIVE_FORMAT: the bytes, the key's extension and content_type agree."""
    ctx.limits = Limits(encoding=Encoding("jpeg", quality=80))
    ev = sample_events("fmt")[0]
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    keys = ctx.store.list(f"creatives/{ev.campaign.id}/{ev.event_id}/")
    assert keys and all(k.endswith(".jpg") for k in keys)
    assert Image.open(io.BytesIO(ctx.store.get(keys[0]))).format == "JPEG"
    with session_scope(ctx.ledger.db_url) as s:
        rows = s.execute(select(Creative).where(Creative.event_id == ev.event_id)).scalars()
        assert {(r.content_type, r.object_key in keys) for r in rows} == {("image/jpeg", True)}


def test_model_info_is_built_once_per_runtime(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    first = ctx.model_info()
    assert ctx.model_info() is first  # not rebuilt per event
    assert first.version == ctx.runtime.version
    assert first.config == ctx.runtime.config_dict()
    other = copy.copy(ctx.runtime)
    monkeypatch.setattr(ctx, "runtime", other)  # a runtime swapped in: its own identity
    assert ctx.model_info() is not first
