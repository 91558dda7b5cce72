"""Per-process worker state: storage client, DB URL, the generator runtime, the DLQ publisher.

Built lazily in each worker process (after the fork), never in a parent that forks: engines,
S3 clients and CUDA contexts must not cross a fork.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from shared.config import get_settings
from shared.db.engine import dispose_engines
from shared.generation import GeneratorRuntime
from shared.pipeline import Context
from shared.queues import DEAD_QUEUE
from shared.storage import open_store
from workers.app import app, dead_exchange, dead_queue

log = logging.getLogger("adgen.worker")

_ctx: dict[int, Context] = {}


def publish_dead_letter(message: dict[str, Any]) -> None:
    with app.producer_or_acquire() as producer:
        producer.publish(message, exchange=dead_exchange, routing_key=DEAD_QUEUE,
                         declare=[dead_queue], serializer="json", delivery_mode=2, retry=True,
                         retry_policy={"max_retries": 5, "interval_start": 0.5,
                                       "interval_step": 1, "interval_max": 5})


def _load_runtime() -> GeneratorRuntime:
    s = get_settings()
    runtime = GeneratorRuntime.load(s.resolved_model_dir, device=s.device)
    seconds = runtime.warmup()
    log.info("model %s loaded on %s (warm-up %.2fs)%s", runtime.version, s.device, seconds,
             " [UNTRAINED]" if runtime.untrained else "")
    return runtime


def get_context() -> Context:
    pid = os.getpid()
    ctx = _ctx.get(pid)
    if ctx is None:
        s = get_settings()
        store = open_store(s.resolved_storage_url, secure=s.storage_secure)
        store.ensure_bucket()
        ctx = Context(
            db_url=s.resolved_database_url, store=store, runtime_factory=_load_runtime,
            worker=s.worker_name or f"pid{pid}", max_attempts=s.max_attempts,
            rejected_payload_bytes=s.rejected_payload_bytes, dead_letter=publish_dead_letter,
        )
        _ctx.clear()
        _ctx[pid] = ctx
    return ctx


def init_process() -> None:
    """Called in each pool process right after the fork: fresh pools, model loaded and warm."""
    dispose_engines()
    _ = get_context().runtime
