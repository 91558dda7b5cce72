"""The feedback loop against the real services: RabbitMQ, PostgreSQL and a real feedback worker
process (`celery -A workers.feedback_app worker`, as `adgen feedback worker` starts it)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kombu import Connection
from sqlalchemy import func, select, text

from shared.analytics.roles import drop_analyst, grant_analyst
from shared.config import get_settings
from shared.db.engine import dispose_engines, session_scope
from shared.events import CampaignEvent, parse_event
from shared.feedback import simrun, simulate
from shared.feedback.models import FeedbackDaily, FeedbackEventRow, FeedbackRejected
from shared.feedback.publish import FeedbackPublisher
from shared.feedback.service import ingest_delivery, refresh_serving
from shared.queues import GENERATE_QUEUE
from tests.conftest import set_env
from tests.support.feedback_evidence import add_daily_evidence
from workers.launcher import feedback_worker_command

pytestmark = pytest.mark.integration
FEEDBACK_VIEWS = (
    "ctr_by_model",
    "ctr_by_segment",
    "ctr_by_style",
    "ctr_creatives",
    "ctr_daily",
    "feedback_rejections",
    "retirements",
    "serving_plan",
)
NOW = datetime.now(UTC)


@pytest.fixture
def fb_env(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, pg_url: str, rabbit_url: str
) -> Iterator[dict[str, str]]:
    set_env(
        monkeypatch,
        adgen_env,
        ADGEN_BROKER_URL=rabbit_url,
        ADGEN_DATABASE_URL=pg_url,
        ADGEN_FEEDBACK_MAX_BATCH="1000",
        ADGEN_METRICS_PORT="0",
    )
    yield adgen_env
    dispose_engines()


@pytest.fixture
def feedback_worker(fb_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], Path]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> Path:
        log = tmp_path / f"feedback-worker-{len(procs)}.log"
        env = {**os.environ, **fb_env, "PYTHONUNBUFFERED": "1"}
        cmd = feedback_worker_command(2, f"feedback{len(procs)}@%h")
        with open(log, "ab") as out:
            procs.append(
                subprocess.Popen(
                    cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            assert procs[-1].poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        return log

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _install(campaign: str, n: int = 6, seed: int = 5) -> list[str]:
    with session_scope(get_settings().resolved_database_url) as s:
        return simulate.install(simulate.make_world(seed, n), session=s, campaign=campaign)


def fb(
    kind: str, imp: str, cid: str, campaign: str = "camp", minutes_ago: float = 30, **over: Any
) -> dict[str, Any]:
    return {
        "id": imp if kind == "impression" else f"{imp}-{kind[:2]}",
        "kind": kind,
        "impression_id": imp,
        "creative_id": cid,
        "campaign": campaign,
        "size": "300x250",
        "segment": "sporty",
        "selection_probability": 0.2,
        "occurred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        **over,
    }


def _counts() -> tuple[int, dict[str, int]]:
    with session_scope(get_settings().resolved_database_url) as s:
        stored = s.execute(select(func.count()).select_from(FeedbackEventRow)).scalar_one()
        rejected = dict(
            s.execute(
                select(FeedbackRejected.reason_class, func.count()).group_by(
                    FeedbackRejected.reason_class
                )
            ).all()
        )
    return int(stored), {k: int(v) for k, v in rejected.items()}


def _wait(pred: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {_counts()}"
        time.sleep(0.1)


def test_broker_path_is_idempotent_and_rejects_every_bad_input(
    fb_env: dict[str, str], feedback_worker: Callable[[], Path]
) -> None:
    ids = _install("camp")
    log = feedback_worker()
    pub = FeedbackPublisher()
    good = [
        fb("impression", "i1", ids[0]),
        fb("impression", "i2", ids[1]),
        fb("click", "i1", ids[0], minutes_ago=29),
        fb("conversion", "i1", ids[0], minutes_ago=10, value=20.0),
    ]
    pub.publish_batch(good)
    _wait(lambda: _counts()[0] == 4, "the first delivery")  # clicks below need i1 stored
    pub.publish_batch(good)  # at-least-once: the same events again
    pub.publish_batch([{**good[2], "id": "i1-click-again"}])  # a second click on i1
    bad = {
        "orphan_click": fb("click", "ghost", ids[0]),
        "unknown_creative": fb("impression", "i9", "00000000-0000-4000-8000-0000000000ff"),
        "creative_mismatch": fb("impression", "i8", ids[0], campaign="other"),
        "future_timestamp": fb("impression", "i7", ids[0], minutes_ago=-60),
        "too_old": fb("impression", "i6", ids[0], minutes_ago=60 * 24 * 40),
        "orphan_conversion": fb("conversion", "i2", ids[1]),
    }
    pub.publish_batch(list(bad.values()), validate=False)
    for body in (
        [{**fb("impression", "n1", ids[0]), "count": -2}],
        [{**fb("impression", "n2", ids[0]), "count": 10**9}],
        [{**fb("conversion", "i1", ids[0]), "id": "v2", "value": -1}],
    ):
        pub.publish_batch(body, validate=False)
    pub.send_delivery("{this is not json")
    pub.send_delivery(json.dumps([fb("impression", f"o{i}", ids[0]) for i in range(1001)]))
    pub.send_delivery(json.dumps({"kind": ["nested"]}))
    expected = {**dict.fromkeys(bad, 1), "invalid": 4, "malformed": 1, "oversized_batch": 1}
    _wait(lambda: _counts()[1] == expected, "every rejection")
    # The consumer is alive and still counts good feedback after all that.
    pub.publish_batch([fb("impression", "i3", ids[2])])
    _wait(lambda: _counts()[0] == 5, "the good events")
    time.sleep(0.5)  # anything else in flight would now show up
    assert _counts() == (5, expected)
    assert "Traceback" not in log.read_text(errors="replace")
    result = refresh_serving(policy="thompson_quality", seed=1, publish=lambda e: None)
    assert result.rolled_up == 5
    with session_scope(get_settings().resolved_database_url) as s:
        row = s.get(FeedbackDaily, (ids[0], "sporty", (NOW - timedelta(minutes=30)).date()))
        assert row is not None
        assert (row.impressions, row.clicks, row.conversions, row.conversion_value) == (
            1,
            1,
            1,
            20.0,
        )
    pub.close()


def test_late_conversions_count_on_their_impression_day_inside_the_window(
    fb_env: dict[str, str],
) -> None:
    ids = _install("camp")
    imp_at = NOW - timedelta(days=9)
    old = {"occurred_at": imp_at.isoformat()}
    click = {"occurred_at": (imp_at + timedelta(minutes=2)).isoformat()}
    assert (
        ingest_delivery(
            [
                fb("impression", "a", ids[0], **old),
                fb("impression", "b", ids[0], **old),
                fb("click", "a", ids[0], **click),
                fb("click", "b", ids[0], **click),
            ]
        ).stored
        == 4
    )
    refresh_serving(seed=1, publish=lambda e: None)  # the impression day is rolled up already
    inside = fb("conversion", "a", ids[0], occurred_at=(imp_at + timedelta(days=6)).isoformat())
    outside = fb("conversion", "b", ids[0], occurred_at=(imp_at + timedelta(days=8)).isoformat())
    result = ingest_delivery([inside, outside])  # default window: 168 h
    assert result.stored == 1 and dict(result.rejected) == {"outside_window": 1}
    assert refresh_serving(seed=2, publish=lambda e: None).rolled_up == 1
    url = get_settings().resolved_database_url
    with session_scope(url) as s:
        days = s.execute(
            select(
                FeedbackDaily.day,
                FeedbackDaily.impressions,
                FeedbackDaily.clicks,
                FeedbackDaily.conversions,
            )
        ).all()
        reason = s.execute(select(FeedbackRejected.reason)).scalar_one()
        view = s.execute(
            text(
                "SELECT impressions, clicks, conversions, ctr, ctr_low, ctr_high "
                "FROM analytics.ctr_creatives WHERE creative_id = :c"
            ),
            {"c": ids[0]},
        ).one()
    assert [tuple(d) for d in days] == [(imp_at.date(), 2, 2, 1)]
    assert "attribution window" in reason
    assert tuple(view[:4]) == (2, 2, 1, 1.0) and 0 < view.ctr_low < view.ctr_high <= 1


def test_regeneration_event_goes_through_the_front_door(
    fb_env: dict[str, str], rabbit_url: str
) -> None:
    ids = _install("camp")
    url = get_settings().resolved_database_url
    add_daily_evidence(url, {ids[0]: (6000, 300), ids[1]: (6000, 30)}, NOW.date())
    result = refresh_serving(seed=1)  # the default publisher: shared.publisher.publish
    assert result.retired == [ids[1]] and len(result.published) == 1
    with Connection(rabbit_url) as conn:
        queue = conn.SimpleQueue(GENERATE_QUEUE)
        msg = queue.get(timeout=10)
        body = msg.payload
        msg.ack()
        queue.close()
    args = body[0] if isinstance(body, list) else body["args"]
    event = parse_event(args[0])
    assert isinstance(event, CampaignEvent) and event.event_id == result.published[0]
    role = f"adgen_analyst_f{uuid.uuid4().hex[:10]}"
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn) as conn:
            assert grant_analyst(conn, role).problems == []
        with psycopg.connect(dsn) as conn:  # what an analyst sees, through the views only
            conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
            counts = {
                v: conn.execute(f"SELECT count(*) FROM analytics.{v}").fetchone()[0]
                for v in FEEDBACK_VIEWS
            }
            retired = conn.execute(
                "SELECT creative_id, regeneration_event_id FROM analytics.retirements"
            ).fetchall()
            style = conn.execute(
                "SELECT sum(impressions), sum(clicks) FROM analytics.ctr_by_style"
            ).fetchone()
            plan = conn.execute(
                "SELECT sum(probability) FROM analytics.serving_plan GROUP BY segment"
            ).fetchall()
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            drop_analyst(conn, role)
    assert counts == {
        **dict.fromkeys(FEEDBACK_VIEWS, 1),
        "ctr_daily": 2,
        "ctr_creatives": 2,
        "feedback_rejections": 0,
        "serving_plan": 3 * 5,
    }
    assert retired == [(ids[1], event.event_id)]
    assert tuple(style) == (12000, 330)
    assert all(abs(p - 1) < 1e-9 for (p,) in plan) and len(plan) == 3


def _two_proportion_z(c1: int, n1: int, c2: int, n2: int) -> float:
    p = (c1 + c2) / (n1 + n2)
    return (c1 / n1 - c2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def test_thompson_beats_uniform_through_the_real_path(
    fb_env: dict[str, str], feedback_worker: Callable[[], Path]
) -> None:
    """10,000 impressions per policy on the same seeded world (6 creatives, base CTRs ×4 so that
    a small run has power: across seeds 20-27 the z statistic ranged 4.2-8.6), through RabbitMQ,
    the worker and Postgres. Thompson's realised clicks must beat uniform's by a one-sided
    two-proportion z-test at p < 0.001 (z > 3.09): a plan that ignored feedback would give z ≈ 0."""
    feedback_worker()
    transport = simrun.BrokerTransport(get_settings(), timeout_s=90)
    traces = {
        pol: simrun.run(
            policy=pol,
            transport=transport,
            impressions=10_000,
            round_size=1250,
            seed=21,
            n_creatives=6,
            ctr_scale=4.0,
        )
        for pol in ("uniform", "thompson_quality")
    }
    transport.close()
    u, t = traces["uniform"], traces["thompson_quality"]
    z = _two_proportion_z(t.clicks[-1], t.impressions[-1], u.clicks[-1], u.impressions[-1])
    assert z > 3.09, (z, t.summary(), u.summary())
    assert t.summary()["final_plan_share"] > u.summary()["final_plan_share"]
    with session_scope(get_settings().resolved_database_url) as s:
        stored = s.execute(select(func.count()).select_from(FeedbackEventRow)).scalar_one()
    assert stored == u.events + t.events  # every event through the broker, exactly once


def test_the_loop_runs_as_the_least_privilege_worker_role(
    fb_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`adgen db grant-worker` covers the feedback tables: ingest (COPY into a temp staging
    table) and a refresh with a retirement work as that role, which still cannot change the
    schema."""
    from shared.db.worker_role import drop_worker, grant_worker

    ids = _install("camp")
    url = get_settings().resolved_database_url
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    role = f"adgen_worker_f{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn) as conn:
        grant_worker(conn, role, password="worker-test-secret")
    try:
        as_worker = f"postgresql://{role}:worker-test-secret@{dsn.split('@', 1)[1]}"
        set_env(monkeypatch, fb_env, ADGEN_DATABASE_URL=as_worker)
        assert ingest_delivery([fb("impression", "w1", ids[0])]).stored == 1
        add_daily_evidence(
            get_settings().resolved_database_url,
            {ids[0]: (6000, 300), ids[1]: (6000, 20)},
            NOW.date(),
        )
        result = refresh_serving(seed=1, publish=lambda e: None)
        assert result.rolled_up == 1 and result.retired == [ids[1]]
        with (
            pytest.raises(Exception, match="permission denied|must be owner"),
            session_scope(get_settings().resolved_database_url) as s,
        ):
            s.execute(text("DROP TABLE feedback_events"))
    finally:
        dispose_engines()
        with psycopg.connect(dsn, autocommit=True) as conn:
            drop_worker(conn, role)
