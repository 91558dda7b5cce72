"""Per-process worker state: storage client, DB URL, the generator runtime behind a cross-event
micro-batcher, metrics, and the dead-letter publisher.

Built lazily inside the worker process. GPU workers use Celery's threads pool: many events are in
flight in one process; their image requests meet in one batcher thread that owns the device,
while the other threads compose, encode, upload and write to the database — so the device is not
idle while PNGs are written. The launcher that starts these processes never touches CUDA.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PIL import Image

from shared.batching import MicroBatcher, Upstream
from shared.config import get_settings
from shared.db.group_commit import commit_events
from shared.generation import GeneratorRuntime
from shared.personalize import ImageRequest
from shared.pipeline import Context
from shared.queues import DEAD_QUEUE
from shared.storage import open_store
from workers.app import app, dead_exchange, dead_queue
from workers.metrics import get_metrics

log = logging.getLogger("adgen.worker")

_lock = threading.Lock()
_ctx: dict[int, Context] = {}
_batchers: dict[int, list[MicroBatcher[Any, Any]]] = {}
# Event tasks that started but have not reached the generator yet: the generator's batcher waits
# for them (up to its max wait) and not for events that cannot come.
_upstream = Upstream()


def upstream() -> Upstream:
    return _upstream


def publish_dead_letter(message: dict[str, Any]) -> None:
    with app.producer_or_acquire() as producer:
        producer.publish(message, exchange=dead_exchange, routing_key=DEAD_QUEUE,
                         declare=[dead_queue], serializer="json", delivery_mode=2, retry=True,
                         retry_policy={"max_retries": 5, "interval_start": 0.5,
                                       "interval_step": 1, "interval_max": 5})


def _load_runtime() -> GeneratorRuntime:
    s = get_settings()
    if s.torch_threads:
        # On a busy CPU host, fewer intra-op threads avoid OpenMP stalls (see bench/RESULTS.md).
        import torch

        torch.set_num_threads(s.torch_threads)
    runtime = GeneratorRuntime.load(s.resolved_model_dir, device=s.device,
                                    max_batch=s.batch_max_size, dtype=s.inference_dtype)
    seconds = runtime.warmup()
    log.info("model %s loaded on %s (warm-up %.2fs)%s", runtime.version, s.device, seconds,
             " [UNTRAINED]" if runtime.untrained else "")
    return runtime


def _load_scorer(runtime: GeneratorRuntime) -> Any:
    try:
        from shared.eval.scorer import GateThresholds, load_scorer

        s = get_settings()
        return load_scorer(s.resolved_evaluator_dir, runtime, s.device,
                           GateThresholds.from_settings(s))
    except (ImportError, AttributeError) as exc:
        log.warning("creatives will not be scored: %s", exc)
        return None


def _publish_render(event: Any, images: dict[tuple[int, int], Image.Image],
                    generate_ms: float) -> None:
    """Hand generated images to the CPU render queue (publisher-confirmed on AMQP)."""
    from shared.handoff import encode_handoff
    from shared.queues import RENDER_QUEUE, RENDER_TASK

    app.send_task(RENDER_TASK, args=[encode_handoff(event, images, generate_ms)],
                  queue=RENDER_QUEUE, retry=True,
                  retry_policy={"max_retries": 5, "interval_start": 0.5, "interval_max": 5})


def _crash() -> None:
    """The process dies like a segfault in generation."""
    logging.shutdown()
    os._exit(134)


def _hang() -> None:
    """Generation never returns, like a hung device call."""
    while True:
        time.sleep(60)


def _fault_on_sku(sku: str, fault: Callable[[], None]) -> Callable[[Any], None]:
    """Fault injection for the test suite: `fault` happens when an event shows this SKU."""

    def hook(event: Any) -> None:
        if any(p.sku == sku for p in event.products):
            log.critical("fault injection: %s on SKU %s", fault.__name__.strip("_"), sku)
            fault()

    return hook


def get_context() -> Context:
    """This process's context (one per pid: a forked child never reuses its parent's)."""
    pid = os.getpid()
    with _lock:
        ctx = _ctx.get(pid)
        if ctx is not None:
            return ctx
        s = get_settings()
        store = open_store(s.resolved_storage_url, secure=s.storage_secure)
        store.ensure_bucket()
        metrics = get_metrics()
        ctx = Context(
            db_url=s.resolved_database_url, store=store, runtime_factory=_load_runtime,
            worker=s.worker_name or f"pid{pid}", max_attempts=s.max_attempts,
            rejected_payload_bytes=s.rejected_payload_bytes, dead_letter=publish_dead_letter,
            metrics=metrics, png_level=s.png_compress_level,
            hmac_key=s.event_hmac_key.get_secret_value() if s.event_hmac_key else None,
        )
        if s.render_queue and s.worker_role == "generate":
            ctx.render_sink = _publish_render
        if s.fault_crash_sku:
            ctx.before_generate = _fault_on_sku(s.fault_crash_sku, _crash)
        elif s.fault_hang_sku:
            ctx.before_generate = _fault_on_sku(s.fault_hang_sku, _hang)
        runtime = ctx.runtime  # load + warm once, before any event
        quality = _load_scorer(runtime)
        ctx.scorer = quality

        def generate(reqs: list[ImageRequest]) -> list[Image.Image]:
            return runtime.generate([r.prompt for r in reqs], [r.seed for r in reqs])

        batcher = MicroBatcher(generate, max_batch=s.batch_max_size,
                               max_wait_s=s.batch_max_wait_ms / 1000, on_batch=metrics.batch,
                               on_oom=metrics.oom, name="generate", expected=_upstream)
        _upstream.on_change = batcher.poke
        timeout = float(s.task_soft_time_limit)

        def generate_batched(reqs: list[ImageRequest]) -> list[Image.Image]:
            _upstream.arrived()
            return batcher(reqs, timeout=timeout)

        ctx.generate_fn = generate_batched
        batchers: list[MicroBatcher[Any, Any]] = [batcher]
        # Scoring and the final database write are batched across events too, but never wait
        # for company: whatever queued while the previous pass ran goes into the next one.
        if quality is not None and s.score_batch_max_size > 1:
            scoring = MicroBatcher(quality.forward, max_batch=s.score_batch_max_size,
                                   max_wait_s=0.0, on_batch=metrics.group("score"),
                                   on_oom=metrics.oom, name="score")
            quality.forward_fn = lambda items: scoring(items, timeout=timeout)
            batchers.append(scoring)
        if s.db_batch_max_size > 1:
            writer = MicroBatcher(partial(commit_events, ctx.db_url),
                                  max_batch=s.db_batch_max_size, max_wait_s=0.0,
                                  on_batch=metrics.group("db"), name="db")
            ctx.commit_fn = lambda writes: writer(writes, timeout=timeout)
            batchers.append(writer)
        _ctx.clear()
        _ctx[pid] = ctx
        _batchers[pid] = batchers
        return ctx


def shutdown() -> None:
    for b in _batchers.pop(os.getpid(), []):  # in pipeline order: generate, score, db
        b.close()
