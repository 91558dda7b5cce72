"""Publish -> RabbitMQ/Redis -> real `celery worker` -> SeaweedFS (S3) + Postgres."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable

import pytest
import redis
from kombu import Connection
from PIL import Image
from sqlalchemy import select

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Event, RejectedEvent
from shared.publisher import InvalidEvent, Publisher
from shared.queues import DEAD_QUEUE, GENERATE_QUEUE, PROCESS_BUNDLE_TASK
from shared.samples import sample_events
from shared.storage import open_store
from tests.conftest import set_env
from tests.integration.conftest import creative_count, wait_terminal
from tests.support.services import REDIS, WorkerProcess

pytestmark = pytest.mark.integration


def test_events_become_creatives_in_s3_and_postgres(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    worker = worker_factory(stack)
    deadline = time.monotonic() + 30
    while "fonts: cjk" not in worker.log():  # the start-up font report (CJK included)
        assert time.monotonic() < deadline, worker.log()[-2000:]
        time.sleep(0.2)
    assert "cannot render" not in worker.log()
    s = get_settings()
    events = sample_events("e2e", count=2)
    pub = Publisher(s)
    for ev in events:
        pub.publish(ev)
    pub.publish(events[0])  # duplicate delivery of the same event
    bad = json.loads(events[1].canonical_json())
    bad.update(event_id="e2e-bad", type="billboard")
    with pytest.raises(InvalidEvent):
        pub.publish(bad)  # the publisher refuses it up front...
    pub.publish(json.dumps(bad), validate=False)  # ...and the worker rejects it if sent raw
    pub.close()

    ids = [e.event_id for e in events] + ["e2e-bad"]
    statuses = wait_terminal(s.resolved_database_url, ids)
    assert statuses.pop("e2e-bad") == "rejected"
    assert set(statuses.values()) == {"done"}
    # Terminal is not enough: wait until the duplicate delivery itself was handled (a no-op,
    # or a second run into the same set if it arrived while the first was still in progress).
    deadline = time.monotonic() + 60
    while worker.log().count(f"'event_id': '{events[0].event_id}'") < 2:
        assert time.monotonic() < deadline, worker.log()[-3000:]
        time.sleep(0.2)

    store = open_store(s.resolved_storage_url)
    for ev in events:
        keys = store.list(f"creatives/{ev.campaign.id}/{ev.event_id}/")
        assert (
            len(keys)
            == ev.creative_count
            == creative_count(s.resolved_database_url, event_id=ev.event_id)
        )
        img = Image.open(io.BytesIO(store.get(keys[0])))
        img.load()
        assert img.format == "PNG" and f"{img.width}x{img.height}" in ev.creative.sizes
    with session_scope(s.resolved_database_url) as sess:
        rej = sess.execute(select(RejectedEvent)).scalars().all()
        assert [r.event_id for r in rej] == ["e2e-bad"] and "type" in rej[0].reason
    with Connection(s.resolved_broker_url) as conn:
        q = conn.SimpleQueue(DEAD_QUEUE)
        msg = q.get(timeout=10)
        assert msg.payload["event_id"] == "e2e-bad"
        msg.ack()
        q.close()


def test_a_bundle_of_events_through_a_real_worker(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    """publish_bundle: one message, each event done on its own; a bad member and a delivery
    that is not a bundle at all are recorded, nothing else is lost."""
    from workers.app import make_app

    worker_factory(stack)
    s = get_settings()
    events = sample_events("bun", count=2)
    bad = json.loads(events[0].canonical_json())
    bad.update(event_id="bun-bad", type="billboard")
    pub = Publisher(s)
    with pytest.raises(InvalidEvent):
        pub.publish_bundle([*events, bad])  # refused up front, nothing sent
    assert pub.publish_bundle(events) == [e.event_id for e in events]
    pub.publish_bundle([events[0], json.dumps(bad)], validate=False)
    pub.close()
    app = make_app()
    app.send_task(PROCESS_BUNDLE_TASK, args=["not a list"], queue=GENERATE_QUEUE)

    ids = [e.event_id for e in events] + ["bun-bad"]
    statuses = wait_terminal(s.resolved_database_url, ids)
    assert statuses.pop("bun-bad") == "rejected"
    assert set(statuses.values()) == {"done"}
    for ev in events:
        assert creative_count(s.resolved_database_url, event_id=ev.event_id) == ev.creative_count
    deadline = time.monotonic() + 60
    while True:
        with session_scope(s.resolved_database_url) as sess:
            reasons = [r.reason for r in sess.execute(select(RejectedEvent)).scalars()]
        if len(reasons) >= 2:
            break
        assert time.monotonic() < deadline, reasons
        time.sleep(0.3)
    assert any("JSON array of events, not str" in r for r in reasons)
    assert any("type" in r for r in reasons)


def test_redis_broker_works_the_same(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    r = redis.Redis.from_url(f"{REDIS}/11")
    r.flushdb()
    set_env(monkeypatch, stack, ADGEN_BROKER_URL=f"{REDIS}/11")
    worker_factory(stack)
    s = get_settings()
    ev = sample_events("redis")[3]
    Publisher(s).publish(ev)
    assert wait_terminal(s.resolved_database_url, [ev.event_id]) == {ev.event_id: "done"}
    assert creative_count(s.resolved_database_url, event_id=ev.event_id) == ev.creative_count
    r.flushdb()


def test_sigkill_mid_event_then_restart_yields_exactly_one_set(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    s = get_settings()
    ev = sample_events(
        "kill", count=16, sizes=["1080x1080", "300x250", "728x90", "160x600", "320x50"]
    )[0]
    store = open_store(s.resolved_storage_url)
    prefix = f"creatives/{ev.campaign.id}/{ev.event_id}/"
    first = worker_factory(stack)
    Publisher(s).publish(ev)
    deadline = time.monotonic() + 120
    while not store.list(prefix):  # wait until it is really mid-event
        assert time.monotonic() < deadline, first.log()[-2000:]
        time.sleep(0.05)
    first.kill()
    partial = len(store.list(prefix))
    with session_scope(s.resolved_database_url) as sess:
        assert sess.get(Event, ev.event_id).status == "processing"  # type: ignore[union-attr]
    assert partial < ev.creative_count, "event finished before the kill; make it bigger"

    worker_factory(stack)
    assert wait_terminal(s.resolved_database_url, [ev.event_id]) == {ev.event_id: "done"}
    assert len(store.list(prefix)) == ev.creative_count == 80
    assert creative_count(s.resolved_database_url, event_id=ev.event_id) == 80
    with session_scope(s.resolved_database_url) as sess:
        assert sess.get(Event, ev.event_id).attempts == 2  # type: ignore[union-attr]
