"""The loop on the embedded SQLite database: idempotent ingest, incremental roll-up, serving plan,
selection, retirement and the regeneration event (same code as on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, update

from shared.config import get_settings
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.db.models import Creative
from shared.events import CampaignEvent, parse_event
from shared.feedback import simulate
from shared.feedback.models import (
    CreativeRetirement,
    FeedbackDaily,
    FeedbackEventRow,
    FeedbackRejected,
    ServingPlanRow,
)
from shared.feedback.plan import select_creative
from shared.feedback.service import ingest_delivery, refresh_serving
from shared.review.approval import record_decision
from tests.conftest import set_env
from tests.support.feedback_evidence import add_daily_evidence

NOW = datetime.now(UTC)


@pytest.fixture
def loop(adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    set_env(monkeypatch, adgen_env, ADGEN_FEEDBACK_RETIRE_MIN_IMPRESSIONS="1000")
    url = get_settings().resolved_database_url
    upgrade(url)
    world = simulate.make_world(seed=5, n_creatives=6)
    with session_scope(url) as s:
        ids = simulate.install(world, session=s, campaign="camp")
    yield url, world, ids
    dispose_engines()


def fb(kind: str, imp: str, cid: str, minutes_ago: float = 30, **over: Any) -> dict[str, Any]:
    return {
        "id": imp if kind == "impression" else f"{imp}-{kind[:2]}",
        "kind": kind,
        "impression_id": imp,
        "creative_id": cid,
        "campaign": "camp",
        "size": "300x250",
        "segment": "sporty",
        "selection_probability": 0.2,
        "occurred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        **over,
    }


def count(url: str, model: Any, *where: Any) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def test_ingest_is_idempotent_and_rejections_are_recorded(loop: Any) -> None:
    url, _world, ids = loop
    delivery = [
        fb("impression", "i1", ids[0]),
        fb("impression", "i2", ids[1]),
        fb("click", "i1", ids[0], 29),
        fb("conversion", "i1", ids[0], 20, value=12.5),
    ]
    first = ingest_delivery(delivery)
    assert (first.stored, first.duplicates, dict(first.by_kind)) == (
        4,
        0,
        {"impression": 2, "click": 1, "conversion": 1},
    )
    again = ingest_delivery(delivery)
    assert (again.stored, again.duplicates) == (0, 4)
    # A second click on the same impression under another id counts once too.
    dup_click = ingest_delivery([{**fb("click", "i1", ids[0], 28), "id": "i1-other"}])
    assert (dup_click.stored, dup_click.duplicates) == (0, 1)
    bad = ingest_delivery(
        [fb("click", "nope", ids[0]), {**fb("impression", "i3", ids[0]), "count": -1}]
    )
    assert dict(bad.rejected) == {"orphan_click": 1, "invalid": 1} and bad.stored == 0
    assert count(url, FeedbackEventRow) == 4
    assert count(url, FeedbackRejected) == 2


def test_roll_up_is_incremental_and_plan_covers_every_candidate(loop: Any) -> None:
    url, _world, ids = loop
    ingest_delivery(
        [fb("impression", f"a{i}", ids[i % 3]) for i in range(30)]
        + [fb("click", f"a{i}", ids[i % 3], 29) for i in range(0, 30, 3)]
    )
    r1 = refresh_serving(seed=1, publish=lambda e: None)
    assert r1.rolled_up == 40 and r1.retired == []
    r2 = refresh_serving(seed=2, publish=lambda e: None)
    assert r2.rolled_up == 0
    with session_scope(url) as s:
        daily = {
            row.creative_id: (row.impressions, row.clicks)
            for row in s.execute(select(FeedbackDaily)).scalars()
        }
        plan = s.execute(select(ServingPlanRow)).scalars().all()
    assert daily == {ids[0]: (10, 10), ids[1]: (10, 0), ids[2]: (10, 0)}
    segments = {p.segment for p in plan}
    assert segments == set(simulate.SEGMENTS)
    for seg in segments:
        rows = [p for p in plan if p.segment == seg]
        assert {p.creative_id for p in rows} == set(ids)
        assert sum(p.probability for p in rows) == pytest.approx(1.0)
    sporty = {p.creative_id: p for p in plan if p.segment == "sporty"}
    assert sporty[ids[0]].probability == max(p.probability for p in sporty.values())
    ingest_delivery([fb("impression", "late", ids[1])])
    assert refresh_serving(seed=3, publish=lambda e: None).rolled_up == 1
    assert count(url, FeedbackDaily, FeedbackDaily.creative_id == ids[1]) == 1


def test_non_servable_creatives_are_never_planned_or_selected(loop: Any) -> None:
    url, _world, ids = loop
    refresh_serving(seed=1, publish=lambda e: None)
    with session_scope(url) as s:
        s.execute(update(Creative).where(Creative.creative_id == ids[0]).values(servable=False))
    rng = np.random.default_rng(0)
    with session_scope(url) as s:  # stale plan: still never drawn
        picks = {
            select_creative(
                session=s, campaign="camp", size="300x250", segment="sporty", rng=rng
            ).creative_id
            for _ in range(300)
        }
    assert ids[0] not in picks and len(picks) == len(ids) - 1
    refresh_serving(seed=2, publish=lambda e: None)
    assert count(url, ServingPlanRow, ServingPlanRow.creative_id == ids[0]) == 0
    with session_scope(url) as s:
        assert (
            select_creative(session=s, campaign="nope", size="300x250", segment="x", rng=rng)
            is None
        )


def _evidence(url: str, rows: dict[str, tuple[int, int]]) -> None:
    add_daily_evidence(url, rows, date.today())


def test_losers_with_enough_evidence_are_retired_and_regenerated(loop: Any) -> None:
    url, world, ids = loop
    # ids[0] clearly wins; ids[1] clearly loses with evidence; ids[2] loses but has too little.
    _evidence(url, {ids[0]: (5000, 250), ids[1]: (5000, 25), ids[2]: (400, 1)})
    published: list[dict[str, Any]] = []
    result = refresh_serving(seed=1, publish=published.append, now=NOW)
    # Only segments with evidence can show a loser; ids[3..5] have none anywhere.
    assert ids[1] in result.retired and ids[2] not in result.retired
    assert ids[0] not in result.retired
    assert len(published) == 1 and result.published == result.regeneration_events
    event = parse_event(published[0])
    assert isinstance(event, CampaignEvent)
    winner = world.creatives[0]
    assert event.creative.style == winner.style
    assert event.audience.interests[0] == winner.tone
    assert event.creative.sizes == ["300x250"] and event.campaign.id == "camp"
    colour_slot = simulate.TONE_PALETTES[winner.tone].index(winner.accent) + 1
    assert event.creative.count >= max(len(result.retired), colour_slot)
    with session_scope(url) as s:
        ret = s.get(CreativeRetirement, ids[1])
        assert ret is not None and ret.published_at is not None
        assert ret.winners["creatives"][0] == ids[0] and ret.impressions == 5000
    assert count(url, ServingPlanRow, ServingPlanRow.creative_id.in_(result.retired)) == 0
    again = refresh_serving(seed=2, publish=published.append)
    assert again.retired == [] and len(published) == 1
    rng = np.random.default_rng(0)
    with session_scope(url) as s:
        picks = {
            select_creative(
                session=s, campaign="camp", size="300x250", segment="sporty", rng=rng
            ).creative_id
            for _ in range(200)
        }
    assert not picks & set(result.retired)


def test_a_failed_publish_stays_pending_until_the_next_refresh(loop: Any) -> None:
    url, _world, ids = loop
    _evidence(url, {ids[0]: (5000, 250), ids[1]: (5000, 25)})

    def down(_e: dict[str, Any]) -> None:
        raise ConnectionError("broker down")

    result = refresh_serving(seed=1, publish=down)
    assert result.retired and result.published == []
    sent: list[dict[str, Any]] = []
    assert refresh_serving(seed=2, publish=sent.append).published == result.regeneration_events
    assert len(sent) == 1


def test_only_approved_creatives_enter_the_plan(loop: Any) -> None:
    url, _world, ids = loop
    with session_scope(url) as s:  # a reviewer rejects one creative
        record_decision(
            session=s, creative_id=ids[0], decision="reject", actor="rev", reason_code="off_brand"
        )
        pending = simulate.install(
            simulate.make_world(9, 3), session=s, campaign="pending", approve=False
        )  # nobody reviewed these, no auto rule
    refresh_serving(seed=1, publish=lambda e: None)
    assert count(url, ServingPlanRow, ServingPlanRow.creative_id == ids[0]) == 0
    assert count(url, ServingPlanRow, ServingPlanRow.creative_id.in_(pending)) == 0
    rng = np.random.default_rng(0)
    with session_scope(url) as s:
        assert (
            select_creative(
                session=s, campaign="pending", size="300x250", segment="sporty", rng=rng
            )
            is None
        )
        record_decision(session=s, creative_id=ids[0], decision="undo", actor="rev")
    refresh_serving(seed=2, publish=lambda e: None)
    assert count(url, ServingPlanRow, ServingPlanRow.creative_id == ids[0]) == 3  # 3 segments
