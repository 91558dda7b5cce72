from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db.engine import dispose_engines, session_scope
from shared.db.models import TERMINAL_STATUSES, Creative, Event
from tests.conftest import set_env
from tests.support.services import SeaweedS3, WorkerProcess, start_supervised, start_worker

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(
    adgen_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
    rabbit_url: str,
    seaweed: SeaweedS3,
    tiny_model_dir: Path,
) -> Iterator[dict[str, str]]:
    """Settings for the real services: RabbitMQ vhost, fresh Postgres DB, a fresh S3 bucket."""
    set_env(
        monkeypatch,
        adgen_env,
        ADGEN_BROKER_URL=rabbit_url,
        ADGEN_DATABASE_URL=pg_url,
        ADGEN_STORAGE_URL=seaweed.url(f"t{uuid.uuid4().hex[:12]}"),
        ADGEN_MODEL_DIR=str(tiny_model_dir),
        ADGEN_MAX_ATTEMPTS="3",
    )
    yield adgen_env
    dispose_engines()


@pytest.fixture
def worker_factory(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Starts real worker processes (plain, or under the `adgen worker` supervisor); stops them
    afterwards, waking any a test froze with SIGSTOP."""
    started: list[WorkerProcess] = []

    def make(
        env: dict[str, str],
        name: str = "cpu",
        ready: bool = True,
        supervised: bool = False,
        concurrency: int | None = None,
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{name}-{len(started)}.log"
        w = (
            start_supervised(env, log)
            if supervised
            else start_worker(env, log, name=name, concurrency=concurrency)
        )
        started.append(w)
        if ready:
            w.wait_ready()
        return w

    yield make
    for w in started:
        try:
            if w.proc.poll() is None:
                os.killpg(w.proc.pid, signal.SIGCONT)
            w.terminate(timeout_s=30)
        except Exception:
            w.kill()


def wait_terminal(db_url: str, ids: list[str], timeout_s: float = 180) -> dict[str, str]:
    """Statuses once every event is terminal. Tolerates the database itself being down for a
    while (some fault tests restart it)."""
    deadline = time.monotonic() + timeout_s
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            with session_scope(db_url) as s:
                statuses = dict(
                    s.execute(
                        select(Event.event_id, Event.status).where(Event.event_id.in_(ids))
                    ).all()
                )
        except Exception:
            dispose_engines()
            time.sleep(1)
            continue
        if len(statuses) == len(ids) and all(v in TERMINAL_STATUSES for v in statuses.values()):
            return statuses
        time.sleep(0.3)
    missing = [i for i in ids if i not in statuses]
    raise TimeoutError(
        f"not terminal after {timeout_s}s: missing={missing[:5]} "
        f"states={sorted(set(statuses.values()))}"
    )


def creative_count(db_url: str, **where: Any) -> int:
    with session_scope(db_url) as s:
        q = select(func.count()).select_from(Creative)
        for k, v in where.items():
            q = q.where(getattr(Creative, k) == v)
        return int(s.execute(q).scalar_one())
