"""CPU cost of each stage of the worker path, measured in this process, per creative.

Runs the worker's own functions one stage at a time over a stream of 1-creative events, against
the benchmark's real Postgres and S3 server, and reads `time.process_time()` around each stage
(CPU of this process only: the servers' CPU is counted separately by bench/cpu.py). Subtracted
from a worker's total CPU per creative, what is left is Celery, threads and everything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from shared.compose import compose_creative
from shared.config import Settings
from shared.db import repo
from shared.db.engine import session_scope
from shared.db.group_commit import commit_events
from shared.db.ledger import CommitFn, SqlLedger
from shared.encoding import Encoding
from shared.eval.model import pil_to_uint8
from shared.eval.scorer import GateThresholds, load_scorer
from shared.events import CampaignEvent
from shared.generation import GeneratorRuntime
from shared.ids import object_key
from shared.personalize import plan_event
from shared.pipeline import Context, produce_and_commit
from shared.records import EventResult
from shared.storage import open_store

STAGES = (
    "generator",
    "scoring networks",
    "scoring per event",
    "compose",
    "PNG encode",
    "S3 client",
    "DB client (claim + group commit)",
)


def _keep(writes: list[EventResult]) -> CommitFn:
    """A commit function that keeps the writes instead of committing them."""

    def commit(batch: Sequence[EventResult]) -> list[BaseException | None]:
        writes.extend(batch)
        return [None] * len(batch)

    return commit


@contextmanager
def _cpu(totals: dict[str, float], name: str) -> Iterator[None]:
    t0 = time.process_time()
    yield
    totals[name] = totals.get(name, 0.0) + time.process_time() - t0


def _chunks(xs: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


def stage_costs(
    model_dir: Path,
    events: list[CampaignEvent],
    settings: Settings,
    batch: int,
    dtype: str = "auto",
    db_group: int = 16,
) -> dict[str, float]:
    """CPU ms per creative for each stage in STAGES (batched stages at `batch`), in a warm
    steady state like a long-running worker's: the first half of `events` warms the caches
    (sentence embeddings, layouts, allocator), the second half is measured. Give a stream that
    repeats its products, as `single_creative_events` does."""
    rt = GeneratorRuntime.load(model_dir, "cpu", max_batch=batch, dtype=dtype)
    rt.warmup()
    store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
    store.ensure_bucket()
    half = len(events) // 2
    _measure(rt, store, events[:half], settings, batch, db_group)
    return _measure(rt, store, events[half:], settings, batch, db_group)


def _measure(
    rt: GeneratorRuntime,
    store: Any,
    events: list[CampaignEvent],
    settings: Settings,
    batch: int,
    db_group: int,
) -> dict[str, float]:
    scorer = load_scorer(
        settings.resolved_evaluator_dir, rt, "cpu", GateThresholds.from_settings(settings)
    )
    plans = [plan_event(e) for e in events]
    reqs = [r for p in plans for r in p.images]
    n = sum(len(p.creatives) for p in plans)
    t: dict[str, float] = {}

    images: list[Image.Image] = []
    with _cpu(t, "generator"):
        for chunk in _chunks(reqs, batch):
            images += rt.generate([r.prompt for r in chunk], [r.seed for r in chunk])
    by_key: dict[tuple[int, tuple[int, int]], Image.Image] = {}
    offset = 0
    for p in plans:
        for r in p.images:
            by_key[(id(p), r.key)] = images[offset]
            offset += 1

    outputs: list[Any] = []
    if scorer is not None:
        with _cpu(t, "scoring networks"):
            for chunk in _chunks(list(zip(images, reqs, strict=True)), batch):
                raw = pil_to_uint8([im for im, _ in chunk], scorer.evaluator.cfg.image_size)
                outputs += scorer.forward([(raw[i], r.prompt) for i, (_, r) in enumerate(chunk)])
        queue = iter(outputs)
        scorer.forward_fn = lambda items: [next(queue) for _ in items]

    composed: list[tuple[CampaignEvent, Any, Image.Image]] = []
    with _cpu(t, "compose"):
        for ev, p in zip(events, plans, strict=True):
            for cp in p.creatives:
                imgs = [by_key[(id(p), k)] for k in cp.image_keys]
                composed.append((ev, cp, compose_creative(cp, imgs, ev)))
    with _cpu(t, "PNG encode"):
        pngs = [Encoding().encode(c) for _, _, c in composed]
    with _cpu(t, "S3 client"):
        for (ev, cp, _), png in zip(composed, pngs, strict=True):
            store.put(object_key(ev.campaign.id, ev.event_id, cp.creative_id), png, "image/png")
    if scorer is not None:
        with _cpu(t, "scoring per event"):
            for ev, p in zip(events, plans, strict=True):
                per_key = {r.key: by_key[(id(p), r.key)] for r in p.images}
                creatives = [c for e, _, c in composed if e is ev]
                scorer(ev, p, per_key, creatives)
        queue = iter(outputs)  # replay the same outputs for the pass that builds the rows

    db = settings.resolved_database_url
    with _cpu(t, "DB client (claim + group commit)"):
        for ev in events:
            with session_scope(db) as s:
                repo.claim_event(session=s, event=ev, worker="stage-costs", max_attempts=3)
    writes: list[EventResult] = []
    ctx = Context(
        ledger=SqlLedger(db, "stage-costs", commit_fn=_keep(writes)),
        store=store,
        runtime=rt,
        scorer=scorer,
    )
    for ev, p in zip(events, plans, strict=True):
        produce_and_commit(
            ev, p, {r.key: by_key[(id(p), r.key)] for r in p.images}, ctx, generate_ms=0.0
        )
    with _cpu(t, "DB client (claim + group commit)"):
        for group in _chunks(writes, db_group):
            problems = commit_events(db, group)
            assert not any(problems), problems
    return {k: t.get(k, 0.0) * 1000 / n for k in STAGES}
