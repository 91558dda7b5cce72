"""Group commit on the real Postgres: the scores go in as three arrays (`unnest`), an upsert
like the SQLite path, so a retried event rewrites its values instead of failing or doubling."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.db.engine import dispose_engines, session_scope
from shared.db.group_commit import commit_events
from shared.db.models import Event, Score
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, handle_event_task
from shared.records import EventResult, Verdict
from shared.samples import sample_events
from shared.storage import open_store

pytestmark = pytest.mark.integration


def _writes(pg_url: str, tmp_path: Path, runtime: GeneratorRuntime) -> list[EventResult]:
    store = open_store((tmp_path / "objects").as_uri())
    store.ensure_bucket()
    ctx = Context.local(pg_url, store, runtime, worker="pg-test")
    kept: list[EventResult] = []

    def keep(batch: list[EventResult]) -> list[BaseException | None]:
        kept.extend(batch)
        return [None] * len(batch)

    ctx.ledger.commit_fn = keep
    for ev in sample_events("pgscores", count=3):
        assert handle_event_task([ev.canonical_json()], {}, ctx).status == "done"
    return kept


def _scores(pg_url: str) -> dict[tuple[str, str], float]:
    with session_scope(pg_url) as s:
        rows = s.execute(select(Score.creative_id, Score.metric, Score.value)).all()
    return {(c, m): v for c, m, v in rows}


def test_scores_are_upserted_from_arrays(
    pg_url: str, tmp_path: Path, tiny_runtime: GeneratorRuntime, adgen_env: dict[str, str]
) -> None:
    writes = _writes(pg_url, tmp_path, tiny_runtime)
    first = [
        replace(
            w,
            verdicts=[Verdict({"alignment": 0.25, "odd": math.nan}, True, None)] * len(w.creatives),
        )
        for w in writes
    ]
    assert commit_events(pg_url, first) == [None] * len(first)
    got = _scores(pg_url)
    ids = [c.creative_id for w in writes for c in w.creatives]
    assert len(got) == 2 * len(ids)
    assert all(got[(i, "alignment")] == 0.25 and math.isnan(got[(i, "odd")]) for i in ids)
    # A redelivered event writes again: same rows, new values, nothing doubled.
    again = [
        replace(
            w, verdicts=[Verdict({"alignment": 0.75, "odd": 1.0}, True, None)] * len(w.creatives)
        )
        for w in writes
    ]
    assert commit_events(pg_url, again) == [None] * len(again)
    got = _scores(pg_url)
    assert len(got) == 2 * len(ids)
    assert all(got[(i, "alignment")] == 0.75 and got[(i, "odd")] == 1.0 for i in ids)
    with session_scope(pg_url) as s:
        assert {e.status for e in s.execute(select(Event)).scalars()} == {"done"}
    dispose_engines()
