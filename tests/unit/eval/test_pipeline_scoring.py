"""The scorer inside the worker path: scores and the servable flag land with the creatives."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from shared.db.engine import session_scope
from shared.db.migrate import upgrade
from shared.db.models import Creative, Score
from shared.eval.scorer import GateThresholds, load_scorer
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, handle_event_task
from shared.samples import sample_events
from shared.storage import open_store


@pytest.mark.parametrize("strict", [False, True])
def test_scores_and_gate_are_written(
    tmp_path: Path,
    runtime: GeneratorRuntime,
    tiny_evaluator: tuple[Path, dict[str, float]],
    strict: bool,
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(db)
    store = open_store((tmp_path / "objects").as_uri())
    store.ensure_bucket()
    gate = GateThresholds(min_alignment=0.999 if strict else None, max_duplicate_similarity=None)
    ctx = Context.local(
        db,
        store,
        runtime,
        worker="test",
        scorer=load_scorer(tiny_evaluator[0], runtime, "cpu", gate),
    )
    event = sample_events("evalpipe")[3]  # recommendation: several products per creative
    assert handle_event_task([event.canonical_json()], {}, ctx).status == "done"
    with session_scope(db) as s:
        creatives = s.execute(select(Creative)).scalars().all()
        scores = s.execute(select(Score)).scalars().all()
    assert len(creatives) == event.creative_count
    names = {(sc.creative_id, sc.metric) for sc in scores}
    for c in creatives:
        assert {
            (c.creative_id, m) for m in ("alignment", "realism", "ssim_ref", "sharpness")
        } <= names
        assert c.servable is (not strict)
        assert (c.servable_reason is not None) is strict
