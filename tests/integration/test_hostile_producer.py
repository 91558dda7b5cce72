"""A careless or malicious producer against the real broker, database, S3 server and workers:
every message ends done, failed or rejected with a reason; nothing forged lands as a creative."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kombu import Connection, Exchange
from sqlalchemy import select

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Event, RejectedEvent
from shared.handoff import seal
from shared.personalize import plan_event
from shared.publisher import Publisher
from shared.queues import GENERATE_QUEUE, PROCESS_EVENT_TASK, RENDER_QUEUE, RENDER_TASK
from shared.samples import sample_events
from shared.signing import sign
from shared.storage import open_store
from tests.conftest import set_env
from tests.integration.conftest import creative_count, wait_terminal
from tests.support.services import WorkerProcess, start_supervised

pytestmark = pytest.mark.integration


def _reasons(db: str) -> list[tuple[str | None, str]]:
    with session_scope(db) as s:
        return [
            (r.event_id, r.reason)
            for r in s.execute(select(RejectedEvent).order_by(RejectedEvent.id)).scalars()
        ]


def _wait_rejections(db: str, n: int, timeout_s: float = 90) -> list[tuple[str | None, str]]:
    deadline = time.monotonic() + timeout_s
    while len(rows := _reasons(db)) < n:
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)
    return rows


def test_signed_split_deployment_refuses_forged_handoffs(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    """Finding 1 and signing end to end: signed events are done through generate + render
    workers; unsigned and tampered ones are rejected; hand-offs a producer forges (unsealed, or
    sealed with a guessed key) plant nothing and cannot flip a rejected event to done."""
    from workers.app import make_app

    set_env(
        monkeypatch,
        stack,
        ADGEN_RENDER_QUEUE="1",
        ADGEN_EVENT_HMAC_KEY="publisher-key-1",
        ADGEN_WORKER_KEY="worker-key-" + uuid.uuid4().hex,
    )
    s = get_settings()
    worker_factory(stack, name="gen")
    render = start_supervised({**stack}, tmp_path / "render.log", role="render")
    try:
        render.wait_ready()
        good, unsigned, tampered, planted = sample_events("sig", count=1)[:4]
        Publisher(s).publish(good)  # the publisher signs
        app = make_app(s)
        app.send_task(PROCESS_EVENT_TASK, args=[unsigned.canonical_json()], queue=GENERATE_QUEUE)
        body = tampered.canonical_json()
        app.send_task(
            PROCESS_EVENT_TASK,
            args=[body.replace('"count":1', '"count":2')],
            kwargs={"signature": sign(body, "publisher-key-1")},
            queue=GENERATE_QUEUE,
        )
        ids = [good.event_id, unsigned.event_id, tampered.event_id]
        statuses = wait_terminal(s.resolved_database_url, ids)
        assert statuses == {
            good.event_id: "done",
            unsigned.event_id: "rejected",
            tampered.event_id: "rejected",
        }
        images = {
            r.key: __import__("PIL.Image").Image.new("RGB", (64, 64), "red")
            for r in plan_event(unsigned).images
        }
        forged = [
            {"event": unsigned.canonical_json(), "images": {}, "generate_ms": 0},  # old format
            seal(unsigned, 1, images, 0.0, "publisher-key-1"),  # the key a producer knows
            seal(planted, 1, images, 0.0, "guessed"),  # a fresh id
        ]
        for message in forged:
            app.send_task(RENDER_TASK, args=[message], queue=RENDER_QUEUE)
        rows = _wait_rejections(s.resolved_database_url, 2 + len(forged))
        handoff_reasons = [r for _, r in rows if r.startswith("render hand-off refused")]
        assert len(handoff_reasons) == len(forged), rows
        assert all("MAC" in r for r in handoff_reasons)
        store = open_store(s.resolved_storage_url)
        assert store.list(f"creatives/{unsigned.campaign.id}/{unsigned.event_id}/") == []
        assert store.list(f"creatives/{planted.campaign.id}/{planted.event_id}/") == []
        with session_scope(s.resolved_database_url) as sess:
            assert sess.get(Event, unsigned.event_id).status == "rejected"  # type: ignore[union-attr]
            assert sess.get(Event, planted.event_id) is None
        assert (
            creative_count(s.resolved_database_url, event_id=good.event_id) == good.creative_count
        )
    finally:
        render.terminate()


def test_malformed_deliveries_are_recorded_and_a_fixed_event_still_lands(
    stack: dict[str, str],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    """Findings 2 and 3: odd task arguments and undecodable bodies are rejected with a reason
    (never lost); a valid event is not lost to a bad publish time; an invalid first delivery
    does not take the id from the corrected event."""
    from workers.app import make_app

    s = get_settings()
    worker_factory(stack)
    app = make_app(s)
    fixed, late = sample_events("fix", count=1)[:2]
    broken = json.loads(fixed.canonical_json())
    broken["creative"]["sizes"] = ["1x1"]
    Publisher(s).publish(json.dumps(broken), validate=False)
    wait_terminal(s.resolved_database_url, [fixed.event_id])
    Publisher(s).publish(fixed)  # the corrected event, same id
    for args, kwargs in (
        ([], {}),
        ([42], {}),
        ([None], {}),
        ([[1, 2, 3]], {}),
        ([late.canonical_json()], {"colour": "red"}),
    ):
        app.send_task(PROCESS_EVENT_TASK, args=args, kwargs=kwargs, queue=GENERATE_QUEUE)
    app.send_task(
        PROCESS_EVENT_TASK,
        args=[late.canonical_json()],
        kwargs={"published_at": "yesterday"},
        queue=GENERATE_QUEUE,
    )
    with Connection(s.resolved_broker_url) as conn:  # a task message whose body is not UTF-8
        conn.Producer().publish(
            b'[["\xff\xfe"], {}, {"callbacks": null}]',
            exchange=Exchange(GENERATE_QUEUE),
            routing_key=GENERATE_QUEUE,
            content_type="application/json",
            content_encoding="utf-8",
            headers={
                "task": PROCESS_EVENT_TASK,
                "id": "bad-utf8",
                "lang": "py",
                "argsrepr": "",
                "kwargsrepr": "",
            },
        )
    statuses = wait_terminal(s.resolved_database_url, [fixed.event_id, late.event_id])
    assert statuses == {fixed.event_id: "done", late.event_id: "done"}
    rows = _wait_rejections(s.resolved_database_url, 1 + 5 + 1)
    reasons = " | ".join(r for _, r in rows)
    for expected in (
        "unknown ad size",
        "no event",
        "not int",
        "not NoneType",
        "not list",
        "unknown task argument(s): colour",
        "undecodable",
    ):
        assert expected in reasons, (expected, reasons)
