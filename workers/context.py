"""Per-process worker state: the pipeline's adapters (ledger, store, generator behind a
cross-event micro-batcher, scorer, metrics, dead-letter and hand-off publishers).

Built lazily inside the worker process. GPU workers use Celery's threads pool: many events are in
flight in one process; their image requests meet in one batcher thread that owns the device,
while the other threads compose, encode, upload and write to the database — so the device is not
idle while PNGs are written. The launcher that starts these processes never touches CUDA.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from shared.batching import Entrance, MicroBatcher, Upstream
from shared.config import Settings, get_settings
from shared.db.group_commit import commit_events
from shared.db.ledger import SqlLedger
from shared.encoding import Encoding
from shared.generation import GeneratorRuntime
from shared.pipeline import Context, Limits
from shared.plan import ImageRequest
from shared.queues import DEAD_QUEUE
from shared.storage import open_store
from workers.app import app, dead_exchange, dead_queue
from workers.prometheus import get_metrics

log = logging.getLogger("adgen.worker")

_lock = threading.Lock()
_ctx: dict[int, Context] = {}
_batchers: dict[int, list[MicroBatcher[Any, Any]]] = {}
# Event tasks that started but have not reached the generator yet: the generator's batcher waits
# for them (up to its max wait) and not for events that cannot come.
_upstream = Upstream()
# Event tasks that started but have not claimed (or committed) yet: the claim and commit
# batchers wait for them, up to ADGEN_DB_BATCH_MAX_WAIT_MS, so a worker with a backlog writes
# several events per transaction; a lone event (nobody else in flight) never waits.
_to_claim, _to_commit = Upstream(), Upstream()


@contextmanager
def in_flight(generates: bool) -> Iterator[None]:
    """Count one event task as on its way to the claim and commit batchers (and to the
    generator's, when it ``generates``) until it submits there or leaves."""
    with _to_claim.track(), _to_commit.track(), _upstream.track() if generates else nullcontext():
        yield


def publish_dead_letter(message: dict[str, Any]) -> None:
    s = get_settings()
    with app.producer_or_acquire() as producer:
        producer.publish(
            {**message, "worker": s.worker_name or f"pid{os.getpid()}"},
            exchange=dead_exchange,
            routing_key=DEAD_QUEUE,
            declare=[dead_queue],
            serializer="json",
            delivery_mode=2,
            retry=True,
            retry_policy={
                "max_retries": 5,
                "interval_start": 0.5,
                "interval_step": 1,
                "interval_max": 5,
            },
        )


def publish_handoff(message: dict[str, Any]) -> None:
    """Send a sealed hand-off to the CPU render queue (publisher-confirmed on AMQP)."""
    from shared.queues import RENDER_QUEUE, RENDER_TASK

    try:
        app.send_task(
            RENDER_TASK,
            args=[message],
            queue=RENDER_QUEUE,
            retry=True,
            retry_policy={"max_retries": 5, "interval_start": 0.5, "interval_max": 5},
        )
    except Exception as exc:  # kombu raises several types; the event path retries this one
        raise ConnectionError(f"render queue did not take the hand-off: {exc}") from exc


def worker_key(s: Settings) -> str | None:
    """The workers' shared hand-off key: configured, or (embedded, one host) kept in
    ADGEN_HOME/worker.key, made on first use and readable by this user only."""
    if s.worker_key is not None:
        return s.worker_key.get_secret_value()
    if not s.embedded:
        return None
    path: Path = s.home / "worker.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def limits_from(s: Settings) -> Limits:
    key = worker_key(s)
    if s.render_queue and not key:
        raise RuntimeError(
            "ADGEN_RENDER_QUEUE is on but ADGEN_WORKER_KEY is not set: generate "
            "and render workers need one shared key to seal hand-offs"
        )
    return Limits(
        max_attempts=s.max_attempts,
        payload_cap=s.rejected_payload_bytes,
        encoding=encoding_from(s),
        device_tiles=s.device_tiles,
        deadline_s=float(s.task_soft_time_limit),
        event_hmac_key=s.event_hmac_key.get_secret_value() if s.event_hmac_key else None,
        worker_key=key,
        bundle_max_events=s.bundle_max_events,
    )


def encoding_from(s: Settings) -> Encoding:
    return Encoding(s.creative_format, s.creative_quality, s.png_compress_level, s.png_encoder)


def _load_runtime(s: Settings) -> GeneratorRuntime:
    if s.torch_threads:
        # On a busy CPU host, fewer intra-op threads avoid OpenMP stalls (see bench/RESULTS.md).
        import torch

        torch.set_num_threads(s.torch_threads)
    runtime = GeneratorRuntime.load(
        s.resolved_model_dir, device=s.device, max_batch=s.batch_max_size, dtype=s.inference_dtype
    )
    seconds = runtime.warmup()
    log.info(
        "model %s loaded on %s (warm-up %.2fs)%s",
        runtime.version,
        s.device,
        seconds,
        " [UNTRAINED]" if runtime.untrained else "",
    )
    return runtime


def _load_scorer(runtime: GeneratorRuntime, s: Settings) -> Any:
    try:
        from shared.eval.scorer import GateThresholds, load_scorer

        return load_scorer(
            s.resolved_evaluator_dir, runtime, s.device, GateThresholds.from_settings(s)
        )
    except (ImportError, AttributeError) as exc:
        log.warning("creatives will not be scored: %s", exc)
        return None


def get_context() -> Context:
    """This process's context (one per pid: a forked child never reuses its parent's)."""
    pid = os.getpid()
    with _lock:
        ctx = _ctx.get(pid)
        if ctx is None:
            ctx, batchers = _build(get_settings(), pid)
            _ctx.clear()
            _ctx[pid] = ctx
            _batchers[pid] = batchers
        return ctx


def _build(s: Settings, pid: int) -> tuple[Context, list[MicroBatcher[Any, Any]]]:
    store = open_store(s.resolved_storage_url, secure=s.storage_secure)
    store.ensure_bucket()
    metrics = get_metrics()
    ledger = SqlLedger(s.resolved_database_url, worker=s.worker_name or f"pid{pid}")
    runtime = _load_runtime(s)  # load + warm once, before any event
    scorer = _load_scorer(runtime, s)
    ctx = Context(
        ledger=ledger,
        store=store,
        runtime=runtime,
        limits=limits_from(s),
        scorer=scorer,
        dead_letter=publish_dead_letter,
        metrics=metrics,
        handoff=publish_handoff if s.render_queue and s.worker_role == "generate" else None,
    )

    def generate(reqs: list[ImageRequest]) -> list[Image.Image]:
        return runtime.generate([r.prompt for r in reqs], [r.seed for r in reqs])

    batcher = MicroBatcher(
        generate,
        max_batch=s.batch_max_size,
        max_wait_s=s.batch_max_wait_ms / 1000,
        on_batch=metrics.batch,
        on_oom=metrics.oom,
        name="generate",
        expected=_upstream,
    )
    timeout = float(s.task_soft_time_limit)
    ctx.generate_fn = Entrance(batcher, _upstream, timeout)  # the pipeline passes its own
    batchers: list[MicroBatcher[Any, Any]] = [batcher]
    # Scoring is batched across events too, but never waits for company: whatever queued while
    # the previous pass ran goes into the next one.
    if scorer is not None and s.score_batch_max_size > 1:
        scoring = MicroBatcher(
            scorer.forward,
            max_batch=s.score_batch_max_size,
            max_wait_s=0.0,
            on_batch=metrics.group("score"),
            on_oom=metrics.oom,
            name="score",
        )
        scorer.forward_fn = lambda items: scoring(items, timeout=timeout)
        batchers.append(scoring)
    if s.db_batch_max_size > 1:
        # Claims of events that arrive together: one transaction, one INSERT for their first
        # deliveries (placed before the generator's batcher so shutdown follows the event path).
        # Both wait up to db_batch_max_wait_ms for events still on their way: a worker that
        # never waited wrote groups of ~1.5 on a backlog, at 25 ms it writes groups of 8 and
        # spends ~40% less CPU per 1-creative message (bench/RESULTS.md, session 11).
        db_wait = s.db_batch_max_wait_ms / 1000
        claims = MicroBatcher(
            ledger.claim_many,
            max_batch=s.db_batch_max_size,
            max_wait_s=db_wait,
            on_batch=metrics.group("claim"),
            name="claim",
            expected=_to_claim,
        )
        ledger.claim_fn = Entrance(claims, _to_claim, timeout)
        batchers.insert(0, claims)
        writer = MicroBatcher(
            partial(commit_events, ledger.db_url),
            max_batch=s.db_batch_max_size,
            max_wait_s=db_wait,
            on_batch=metrics.group("db"),
            name="db",
            expected=_to_commit,
        )
        ledger.commit_fn = Entrance(writer, _to_commit, timeout)
        batchers.append(writer)
    return ctx, batchers


def shutdown() -> None:
    for b in _batchers.pop(os.getpid(), []):  # in pipeline order: generate, score, db
        b.close()
