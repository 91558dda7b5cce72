"""Group commit on the real Postgres: the scores and the creatives go in as arrays (`unnest`),
upserts like the SQLite path, so a retried event rewrites its values instead of failing or
doubling."""

from __future__ import annotations

import json
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


def test_creatives_are_upserted_from_arrays_column_for_column(
    pg_url: str, tmp_path: Path, tiny_runtime: GeneratorRuntime, adgen_env: dict[str, str]
) -> None:
    from shared.db.group_commit import creative_row
    from shared.db.models import Creative

    writes = _writes(pg_url, tmp_path, tiny_runtime)
    assert commit_events(pg_url, writes) == [None] * len(writes)
    expected = {
        row["creative_id"]: row
        for w in writes
        for row in (creative_row(w, c, None) for c in w.creatives)
    }
    with session_scope(pg_url) as s:
        got = {c.creative_id: c for c in s.execute(select(Creative)).scalars()}
    assert got.keys() == expected.keys() and len(got) > 3
    for cid, row in expected.items():
        for name, value in row.items():
            if name == "details":  # as JSON stores it (tuples come back as lists)
                value = json.loads(json.dumps(value))
            stored = getattr(got[cid], name)
            assert stored == value or (value != value and stored != stored), (cid, name)
    # A redelivered event writes again: its rows take the new values, nothing doubles.
    again = [replace(w, verdicts=[Verdict({}, False, "late")] * len(w.creatives)) for w in writes]
    assert commit_events(pg_url, again) == [None] * len(again)
    with session_scope(pg_url) as s:
        rows = s.execute(select(Creative.servable, Creative.servable_reason)).all()
    assert len(rows) == len(expected) and set(rows) == {(False, "late")}
    dispose_engines()
