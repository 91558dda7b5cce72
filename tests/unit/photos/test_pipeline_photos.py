"""The worker path with a shop's photo: SQLite, a local object store, the tiny model."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from shared.db.engine import session_scope
from shared.db.models import Creative, Event
from shared.events import CampaignEvent
from shared.personalize import EventPlan, ImageRequest
from shared.photos.load import PhotoLimits
from shared.photos.upload import upload_photo
from shared.pipeline import Context, handle_event_task, handle_handoff
from shared.samples import photo_event, sample_events
from tests.unit.photos import hostile


def _upload(ctx: Context, tmp_path: Any, img: Image.Image, name: str = "shoe.png") -> str:
    path = tmp_path / name
    path.write_bytes(hostile.encode(img))
    key = upload_photo(ctx.store, path, PhotoLimits()).key
    assert key is not None
    return key


def _spy_generate(ctx: Context) -> list[ImageRequest]:
    seen: list[ImageRequest] = []
    runtime = ctx.runtime

    def generate(requests: list[ImageRequest], timeout: float) -> list[Image.Image]:
        seen.extend(requests)
        return runtime.generate([r.prompt for r in requests], [r.seed for r in requests])

    ctx.generate_fn = generate
    return seen


def _rows(ctx: Context, event_id: str) -> list[Creative]:
    with session_scope(ctx.ledger.db_url) as s:
        rows = (
            s.execute(
                select(Creative).where(Creative.event_id == event_id).order_by(Creative.index)
            )
            .scalars()
            .all()
        )
        s.expunge_all()
        return list(rows)


def test_photo_event_shows_the_photo_and_draws_nothing(ctx: Context, tmp_path: Any) -> None:
    red = (200, 30, 40)
    key = _upload(ctx, tmp_path, hostile.product_on_white(240, colour=red))
    seen = _spy_generate(ctx)
    ev = photo_event("ph", key)
    out = handle_event_task([ev.canonical_json()], {}, ctx)
    assert out.status == "done" and out.creatives == ev.creative_count
    assert seen == []  # the GAN drew nothing for this event
    for row in _rows(ctx, ev.event_id):
        assert row.details and row.details["image_source"] == "photo"
        (source,) = row.details["image_sources"]
        assert source["key"] == key and source["matte"] == "border" and len(source["sha256"]) == 64
        assert row.model_version_id is None and row.prompt == f"photo {key}"
        img = np.asarray(Image.open(io.BytesIO(ctx.store.get(row.object_key))).convert("RGB"))
        # the product's own colour is in the creative exactly, not re-drawn or filtered
        assert (np.abs(img.astype(int) - red).max(axis=-1) == 0).sum() > 50


def test_cart_with_a_photo_is_mixed(ctx: Context, tmp_path: Any) -> None:
    key = _upload(ctx, tmp_path, hostile.product_on_white(120))
    seen = _spy_generate(ctx)
    cart = sample_events("mx")[2]
    cart = cart.model_copy(update={"products": [cart.product.model_copy(update={"photo": key})]})
    assert handle_event_task([cart.canonical_json()], {}, ctx).status == "done"
    assert seen and all(r.key[1] >= 1 for r in seen)  # complements only
    kinds = {r.details["image_source"] for r in _rows(ctx, cart.event_id) if r.details}
    assert "mixed" in kinds


def test_missing_photo_fails_the_event_with_the_reason(ctx: Context) -> None:
    ev = photo_event("miss", "catalog/0000/none.png")
    out = handle_event_task([ev.canonical_json()], {}, ctx)
    assert out.status == "failed" and "no such photo" in out.detail
    with session_scope(ctx.ledger.db_url) as s:
        row = s.get(Event, ev.event_id)
        assert row is not None and row.status == "failed"
        assert "catalog/0000/none.png: no such photo in the catalog" in (row.last_error or "")
    assert ctx.dead[-1]["event_id"] == ev.event_id  # type: ignore[attr-defined]


def test_bad_photo_object_fails_the_event_not_the_worker(ctx: Context) -> None:
    ctx.store.put("catalog/bomb/x.png", hostile.png_claiming(50_000, 50_000), "image/png")
    out = handle_event_task([photo_event("bomb", "catalog/bomb/x.png").canonical_json()], {}, ctx)
    assert out.status == "failed" and "decompression bomb" in out.detail
    assert handle_event_task([sample_events("after")[0].canonical_json()], {}, ctx).status == "done"


def test_scorer_sees_generated_images_only(ctx: Context, tmp_path: Any) -> None:
    key = _upload(ctx, tmp_path, hostile.product_on_white(120))
    rated: list[set[tuple[int, int]]] = []

    def scorer(
        event: CampaignEvent,
        plan: EventPlan,
        images: dict[tuple[int, int], Image.Image],
        creatives: list[Image.Image],
    ) -> list[tuple[dict[str, float], bool, str | None]]:
        rated.append(set(images))
        return [({"alignment": 0.5}, True, None) for _ in creatives]

    ctx.scorer = scorer
    cart = sample_events("sc")[2]
    cart = cart.model_copy(update={"products": [cart.product.model_copy(update={"photo": key})]})
    assert handle_event_task([cart.canonical_json()], {}, ctx).status == "done"
    assert rated and all(k[1] >= 1 for k in rated[0])


def test_render_stage_fetches_photos_itself(ctx: Context, tmp_path: Any) -> None:
    """Split deployment: the sealed hand-off carries generated images only; the render stage
    reads the photo from the store (as workers/tasks.render_event calls it)."""
    key = _upload(ctx, tmp_path, hostile.product_on_white(120))
    sent: list[dict[str, Any]] = []
    ctx.limits = replace(ctx.limits, worker_key="worker-key-" + "x" * 32)
    ctx.handoff = sent.append
    ev = photo_event("rq", key)
    assert handle_event_task([ev.canonical_json()], {}, ctx).status == "handed_off"
    assert sent[0]["images"] == {}
    ctx.handoff = None  # the render side
    out = handle_handoff([sent[0]], {}, ctx)
    assert out.status == "done" and out.creatives == ev.creative_count
    assert {r.details["image_source"] for r in _rows(ctx, ev.event_id) if r.details} == {"photo"}
