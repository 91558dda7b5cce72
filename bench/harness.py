"""A real stack for benchmarks: RabbitMQ vhost, fresh Postgres DB, SeaweedFS S3, warm workers.

Uses the same service helpers as the integration tests. Everything is torn down on exit.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from shared.config import Settings, reset_settings_cache
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.db.models import TERMINAL_STATUSES, Event
from shared.events import CampaignEvent
from shared.publisher import Publisher
from shared.samples import sample_events
from tests.support.services import (
    WorkerProcess,
    postgres_database,
    rabbit_vhost,
    start_seaweed,
    start_worker,
)


@dataclass
class Stack:
    env: dict[str, str]
    tmp: Path

    def settings(self, **overrides: str) -> Settings:
        for k, v in {**self.env, **overrides}.items():
            os.environ[k] = v
        reset_settings_cache()
        return Settings()


@contextmanager
def real_stack(model_dir: Path | None = None) -> Iterator[Stack]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adgen-bench-")))
        pg = stack.enter_context(postgres_database())
        upgrade(pg)
        amqp = stack.enter_context(rabbit_vhost())
        s3 = start_seaweed(tmp / "seaweed")
        stack.callback(s3.stop)
        env = {
            "ADGEN_HOME": str(tmp / "home"),
            "ADGEN_BROKER_URL": amqp,
            "ADGEN_DATABASE_URL": pg,
            "ADGEN_STORAGE_URL": s3.url("bench"),
        }
        if model_dir is not None:
            env["ADGEN_MODEL_DIR"] = str(model_dir)
        yield Stack(env, tmp)
        dispose_engines()


@contextmanager
def warm_worker(
    stack: Stack, name: str, concurrency: int, overrides: dict[str, str], metrics_port: int = 0
) -> Iterator[WorkerProcess]:
    env = {**os.environ, **stack.env, **overrides}
    w = start_worker(
        env,
        stack.tmp / f"{name}.log",
        name=name,
        concurrency=concurrency,
        metrics_port=metrics_port,
    )
    try:
        w.wait_ready(timeout_s=300)
        yield w
    finally:
        w.terminate(timeout_s=120)


def single_creative_events(prefix: str, n: int, size: str = "300x250") -> list[CampaignEvent]:
    """A stream of 1-creative events over the four types and varied prompts."""
    base = sample_events(prefix, sizes=[size])
    out = []
    for i in range(n):
        ev = base[i % len(base)]
        out.append(
            ev.model_copy(
                update={
                    "event_id": f"{prefix}-{i:05d}",
                    "creative": ev.creative.model_copy(update={"seed": i}),
                }
            )
        )
    return out


def wait_done(db_url: str, ids: list[str], timeout_s: float = 1800) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(db_url) as s:
            n = s.execute(
                select(func.count())
                .select_from(Event)
                .where(Event.event_id.in_(ids), Event.status.in_(TERMINAL_STATUSES))
            ).scalar_one()
        if n == len(ids):
            return time.perf_counter()
        time.sleep(0.1)
    raise TimeoutError(f"only {n}/{len(ids)} events finished")


def publish_stream(
    settings: Settings, events: list[CampaignEvent], interval_s: float = 0.0
) -> dict[str, datetime]:
    pub = Publisher(settings)
    sent: dict[str, datetime] = {}
    for ev in events:
        sent[ev.event_id] = datetime.now(UTC)
        pub.publish(ev)
        if interval_s:
            time.sleep(interval_s)
    pub.close()
    return sent


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


def run_id() -> str:
    return uuid.uuid4().hex[:6]
