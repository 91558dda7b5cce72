"""Worker operations against the real services: device-pinned workers, cross-event batching,
warm shutdown, metrics, and `adgen workers status`."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import select

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Event
from shared.publisher import Publisher
from shared.queues import GENERATE_QUEUE
from shared.samples import sample_events
from shared.storage import open_store
from tests.conftest import set_env
from tests.integration.conftest import creative_count, wait_terminal
from tests.support.services import WorkerProcess, free_port, start_worker

pytestmark = pytest.mark.integration


def _single_creative_events(prefix: str, n: int) -> list:
    base = sample_events(prefix, sizes=["300x250"])[0]
    return [base.model_copy(update={"event_id": f"{prefix}-{i:04d}"}) for i in range(n)]


def _queue_depth(url: str, queue: str) -> int:
    with Connection(url) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue=queue, passive=True)
        return int(count)


def test_two_pinned_workers_share_the_queue_and_each_event_completes_once(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    worker_factory(stack, name="dev0")
    worker_factory(stack, name="dev1")
    from workers.inspect import collect

    infos = {w.name.split("@")[0]: w for w in collect(timeout=3)}
    assert set(infos) == {"dev0", "dev1"}
    assert "adgen.generate.dev0" in infos["dev0"].queues and GENERATE_QUEUE in infos["dev1"].queues

    s = get_settings()
    events = _single_creative_events("pin", 16)
    pub = Publisher(s)
    for ev in events:
        pub.publish(ev)
    ids = [e.event_id for e in events]
    assert set(wait_terminal(s.resolved_database_url, ids).values()) == {"done"}
    with session_scope(s.resolved_database_url) as sess:
        workers = {
            w.split("@")[0]
            for (w,) in sess.execute(select(Event.worker).where(Event.event_id.in_(ids))).all()
        }
        attempts = {
            a for (a,) in sess.execute(select(Event.attempts).where(Event.event_id.in_(ids))).all()
        }
    assert workers == {"dev0", "dev1"} and attempts == {1}
    assert creative_count(s.resolved_database_url) == 16
    assert len(open_store(s.resolved_storage_url).list("creatives/")) == 16


def test_batching_merges_events_acks_each_and_exposes_metrics(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    set_env(monkeypatch, stack, ADGEN_BATCH_MAX_WAIT_MS="300", ADGEN_BATCH_MAX_SIZE="64")
    port = free_port()
    w = start_worker(stack, tmp_path / "batch.log", name="batch", metrics_port=port, concurrency=16)
    try:
        w.wait_ready()
        s = get_settings()
        events = _single_creative_events("batch", 24)
        pub = Publisher(s)
        for ev in events:
            pub.publish(ev)
        ids = [e.event_id for e in events]
        assert set(wait_terminal(s.resolved_database_url, ids).values()) == {"done"}
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        text = body.decode()
        for series in (
            "adgen_events_total",
            "adgen_creatives_total",
            "adgen_stage_seconds",
            "adgen_batch_size",
            "adgen_failures_total",
            "adgen_events_in_flight",
            "adgen_device_memory_bytes",
        ):
            assert series in text, series
        values = {
            line.split(" ")[0]: float(line.split(" ")[1])
            for line in text.splitlines()
            if line.startswith("adgen_batch_size_") and " " in line
        }
        batches, images = values["adgen_batch_size_count"], values["adgen_batch_size_sum"]
        assert images >= 24 and images / batches > 1.5, (images, batches)  # merged events
        assert 'adgen_events_total{status="done"} 24.0' in text
        # every event finished through group commit exactly once (events per transaction)
        assert 'adgen_group_size_sum{stage="db"} 24.0' in text
        # ... and was claimed through the claim batcher exactly once (deliveries per transaction)
        assert 'adgen_group_size_sum{stage="claim"} 24.0' in text
        for stage in ("queue_wait", "generate", "compose", "encode", "upload", "db"):
            assert f'stage="{stage}"' in text, stage
        time.sleep(1)
        assert _queue_depth(s.resolved_broker_url, GENERATE_QUEUE) == 0  # every event acked
    finally:
        w.terminate()


def test_sigterm_mid_batch_finishes_running_events_and_loses_nothing(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    s = get_settings()
    sizes = ["1080x1080", "300x250", "728x90", "160x600", "320x50"]
    events = [
        e.model_copy(update={"event_id": f"term-{i:03d}"})
        for i, e in enumerate(sample_events("term", count=3, sizes=sizes)[:1] * 12)
    ]
    first = worker_factory(stack, name="term")
    pub = Publisher(s)
    for ev in events:
        pub.publish(ev)
    store = open_store(s.resolved_storage_url)
    deadline = time.monotonic() + 120
    while not store.list("creatives/"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert first.terminate(timeout_s=120) == 0  # warm shutdown, clean exit
    with session_scope(s.resolved_database_url) as sess:
        stuck = sess.execute(select(Event.event_id).where(Event.status == "processing")).all()
    assert stuck == []  # everything it had started, it finished and acked
    worker_factory(stack, name="term2")
    ids = [e.event_id for e in events]
    assert set(wait_terminal(s.resolved_database_url, ids).values()) == {"done"}
    assert creative_count(s.resolved_database_url) == 12 * 15
    assert len(store.list("creatives/")) == 12 * 15
    with session_scope(s.resolved_database_url) as sess:
        assert {a for (a,) in sess.execute(select(Event.attempts)).all()} == {1}


def test_render_queue_splits_device_and_cpu_stages(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    """With ADGEN_RENDER_QUEUE=1 the device worker only generates; render workers compose,
    encode, upload and write rows from the `adgen.render` queue."""
    from tests.support.services import start_supervised

    set_env(monkeypatch, stack, ADGEN_RENDER_QUEUE="1", ADGEN_WORKER_KEY="k" * 32)
    gen = worker_factory(stack, name="gen")
    env = {**stack}
    render = start_supervised(env, tmp_path / "render.log", role="render")
    try:
        render.wait_ready()
        s = get_settings()
        events = sample_events("split", count=2)
        pub = Publisher(s)
        for ev in events:
            pub.publish(ev)
        assert set(
            wait_terminal(s.resolved_database_url, [e.event_id for e in events]).values()
        ) == {"done"}
        for ev in events:
            assert (
                creative_count(s.resolved_database_url, event_id=ev.event_id) == ev.creative_count
            )
        assert "adgen.render_event" in render.log() and "done:" in render.log()
        assert "done:" not in gen.log()  # the device worker rendered nothing itself
    finally:
        render.terminate()
