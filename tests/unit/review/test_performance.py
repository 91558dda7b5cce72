"""The performance figures over the feedback loop's real tables (ingest -> roll-up -> plan) on
SQLite, and the Wilson interval."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db.engine import dispose_engines, get_engine, session_scope
from shared.db.migrate import upgrade
from shared.feedback.service import ingest_delivery, refresh_serving
from shared.review.approval import record_decision
from shared.review.performance import Counts, performance, wilson
from shared.web.plot import ctr_plot
from tests.conftest import set_env
from tests.support.review_factory import Spec, add_creatives, feedback_events


def test_wilson_interval() -> None:
    low, high = wilson(0, 10, z=1.959964)  # textbook: 0/10 at 95% -> [0, 0.2775]
    assert low == 0 and math.isclose(high, 0.2775, abs_tol=5e-4)
    low, high = wilson(50, 100)
    assert low < 0.5 < high and math.isclose(0.5 - low, high - 0.5, rel_tol=1e-9)
    narrow = wilson(500, 1000)
    assert narrow[1] - narrow[0] < high - low  # more evidence, tighter interval
    assert wilson(0, 0) is None
    assert Counts(200, 5).ctr == 0.025 and Counts().ctr is None


@pytest.fixture
def served(adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    set_env(monkeypatch, adgen_env, ADGEN_FEEDBACK_RETIRE_MIN_IMPRESSIONS="100000")
    url = get_settings().resolved_database_url
    upgrade(url)
    with Session(get_engine(url)) as s:
        ids = add_creatives(s, [Spec(), Spec(), Spec(), Spec(campaign="camp-b")])
        for cid in ids[:2] + ids[3:]:
            record_decision(session=s, creative_id=cid, decision="approve", actor="ann")
        s.commit()
    yield url, ids
    dispose_engines()


def test_counts_plan_and_series(served: Any) -> None:
    url, (a, b, unapproved, other) = served
    ctx = {
        a: ("camp-a", "300x250", "sporty"),
        b: ("camp-a", "300x250", "sporty"),
        other: ("camp-b", "300x250", "sporty"),
    }
    events = feedback_events(ctx, {a: 0.2, b: 0.05, other: 0.1}, days=3, per_day=40)
    for i in range(0, len(events), 500):
        assert not ingest_delivery(events[i : i + 500]).rejected
    refresh_serving(settings=get_settings(), retire_losers=False, seed=0, publish=lambda _e: None)
    with session_scope(url) as s:
        perf = performance(session=s, campaign="camp-a")
        everything = performance(session=s, campaign=None)
    clicks = {
        cid: sum(1 for e in events if e["kind"] == "click" and e["creative_id"] == cid)
        for cid in ctx
    }
    rows = {c.creative_id: c for c in perf.creatives}
    assert set(rows) == {a, b, unapproved}
    assert rows[a].counts == Counts(120, clicks[a]) and rows[b].counts == Counts(120, clicks[b])
    assert rows[unapproved].counts == Counts() and rows[unapproved].probability is None
    assert rows[unapproved].state == "pending" and rows[a].state == "approved"
    assert rows[a].probability is not None and rows[b].probability is not None
    assert math.isclose(rows[a].probability + rows[b].probability, 1.0, rel_tol=1e-6)
    assert rows[a].probability > rows[b].probability  # the better one is served more
    camp = {c.campaign_id: c for c in everything.campaigns}
    assert camp["camp-a"].counts == Counts(240, clicks[a] + clicks[b])
    assert camp["camp-a"].in_plan == 2 and camp["camp-a"].creatives == 3
    assert camp["camp-b"].counts.impressions == 120
    # Series: each creative of the campaign plus the campaign total, three days each.
    assert len(perf.series) == 3 and all(len(v) == 3 for v in perf.series.values())
    total = perf.series["camp-a (all)"]
    assert sum(i for _d, i, _c in total) == 240
    png = ctr_plot(perf.series)
    assert png is not None and png[:4] == b"\x89PNG"
    assert ctr_plot({}) is None
