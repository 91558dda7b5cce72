"""Shop photos are never rated as the model's work: photo-only creatives get no model scores
and pass no model gate; mixed ones are rated on their generated images only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from shared.db.engine import session_scope
from shared.db.migrate import upgrade
from shared.db.models import Creative, Score
from shared.eval.scorer import GateThresholds, load_scorer
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, handle_event_task
from shared.samples import photo_event, sample_events, sample_product_photo
from shared.storage import open_store

MODEL_METRICS = {"alignment", "realism", "category_confidence", "duplicate_similarity"}


def test_photos_are_not_scored_as_the_model(
    tmp_path: Path, runtime: GeneratorRuntime, tiny_evaluator: tuple[Path, dict[str, float]]
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(db)
    store = open_store((tmp_path / "objects").as_uri())
    store.ensure_bucket()
    key = "catalog/0123456789abcdef/shoe.jpg"
    store.put(key, sample_product_photo(240), "image/jpeg")
    strict = GateThresholds(min_alignment=0.999, max_duplicate_similarity=None)
    ctx = Context.local(
        db,
        store,
        runtime,
        worker="test",
        scorer=load_scorer(tiny_evaluator[0], runtime, "cpu", strict),
    )
    shown = photo_event("ps", key)
    cart = sample_events("ps-cart")[2]
    cart = cart.model_copy(update={"products": [cart.product.model_copy(update={"photo": key})]})
    for ev in (shown, cart):
        assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    with session_scope(db) as s:
        creatives = {c.creative_id: c for c in s.execute(select(Creative)).scalars()}
        metrics: dict[str, set[str]] = {cid: set() for cid in creatives}
        for sc in s.execute(select(Score)).scalars():
            metrics[sc.creative_id].add(sc.metric)
        kinds = {cid: (c.details or {}).get("image_source") for cid, c in creatives.items()}
        servable = {cid: c.servable for cid, c in creatives.items()}
    photo_only = [cid for cid, k in kinds.items() if k == "photo"]
    mixed = [cid for cid, k in kinds.items() if k == "mixed"]
    assert photo_only and mixed
    for cid in photo_only:
        assert not metrics[cid] & MODEL_METRICS and "sharpness" in metrics[cid]
        assert servable[cid]  # the strict model gate does not apply to the shop's photo
    for cid in mixed:
        assert "alignment" in metrics[cid] and not servable[cid]
