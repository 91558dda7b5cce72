"""Loaded into a real event worker by `celery worker --include bench.worker_stub` (for
bench/broker_cost.py): the model forward passes replayed, the rest of the worker untouched.

As bench/outside_models.py does, the networks run for real once and their outputs are replayed:
here the generator makes one image at load and every request gets a copy of it; the scorer's
batched `forward` runs once on that image and every item gets its result. So the worker's CPU
per message is everything but the forward passes: Celery, our task wrapper, the event walk,
the batcher threads, the database and S3 clients.

It also registers the remote-control command `adgen_thread_cpu`: CPU seconds of every thread of
this process, grouped by role, plus the walk's own thread CPU (`handle_event_task` and
`handle_bundle_task`), so the bench can say where a message's CPU goes without instrumenting
Celery.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
import time
from typing import Any

import celery.concurrency.thread as celery_thread
from celery.worker.control import control_command, inspect_command
from PIL import Image

import workers.context as context
import workers.tasks as tasks
from shared.config import Settings
from shared.generation import GeneratorRuntime

_walk = {"cpu_s": 0.0, "events": 0}
_walk_lock = threading.Lock()
_real_handle = tasks.handle_event_task
_real_bundle = tasks.handle_bundle_task
_real_runtime = context._load_runtime
_real_scorer = context._load_scorer


def _timed(handle: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        c0 = time.thread_time()
        try:
            return handle(*args, **kwargs)
        finally:
            spent = time.thread_time() - c0
            with _walk_lock:
                _walk["cpu_s"] += spent
                _walk["events"] += 1

    return timed


def _replaying_runtime(s: Settings) -> GeneratorRuntime:
    runtime = _real_runtime(s)
    image = runtime.generate(["a red sneaker on a plain background"], [1])[0]

    def generate(prompts: list[str], seeds: list[int]) -> list[Image.Image]:
        return [image.copy() for _ in prompts]

    runtime.generate = generate  # type: ignore[method-assign]
    return runtime


def _replaying_scorer(runtime: GeneratorRuntime, s: Settings) -> Any:
    scorer = _real_scorer(runtime, s)
    if scorer is None:
        return None
    from shared.eval.model import pil_to_uint8

    probe = runtime.generate(["a red sneaker"], [1])[0]
    raw = pil_to_uint8([probe], scorer.evaluator.cfg.image_size)
    canned = scorer.forward([(raw[0], "a red sneaker")])[0]
    scorer.forward = lambda items: [canned for _ in items]
    return scorer


# workers.context builds the context at worker_init, after --include modules are imported.
tasks.handle_event_task = _timed(_real_handle)
tasks.handle_bundle_task = _timed(_real_bundle)
context._load_runtime = _replaying_runtime
context._load_scorer = _replaying_scorer


def thread_group(name: str) -> str:
    """Celery's consumer runs in the main thread; the threads pool's workers are an executor's."""
    if name == "MainThread":
        return "consumer (main thread)"
    if name.startswith("ThreadPoolExecutor"):
        return "task threads"
    if name.startswith("adgen-batch-"):
        return f"batcher: {name.removeprefix('adgen-batch-')}"
    return "other threads"


@inspect_command()  # type: ignore[misc]
def adgen_thread_cpu(state: Any) -> dict[str, Any]:
    groups: dict[str, float] = {}
    for t in threading.enumerate():
        if t.ident is None:
            continue
        try:
            cpu = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except OSError:  # the thread ended between enumerate and the clock
            continue
        key = thread_group(t.name)
        groups[key] = groups.get(key, 0.0) + cpu
    # What no Python thread accounts for: native threads (torch's intra-op pool for the tile
    # and statistics ops that a GPU host runs on its device) and threads that have ended.
    process = time.process_time()
    groups["native threads"] = process - sum(groups.values())
    with _walk_lock:
        walk = dict(_walk)
    batches = {
        b._thread.name.removeprefix("adgen-batch-"): [b.stats.batches, b.stats.items]
        for b in context._batchers.get(os.getpid(), [])
    }
    return {"threads": groups, "process": process, "walk": walk, "batches": batches}


# --- optional profile of Celery's per-message path (python -m bench.broker_cost --profile) ---
# cProfile with each thread's CPU clock: one profiler on the consumer (main) thread, where
# remote-control commands run, and one per task-thread call of Celery's `apply_target`.
_profiles: list[cProfile.Profile] = []
_real_apply = celery_thread.apply_target


def _profiled_apply(*args: Any, **kwargs: Any) -> Any:
    prof = cProfile.Profile(time.thread_time)
    _profiles.append(prof)  # list.append is atomic under the GIL
    prof.enable()
    try:
        return _real_apply(*args, **kwargs)
    finally:
        prof.disable()


@control_command(args=[("action", str), ("path", str)])  # type: ignore[misc]
def adgen_profile(state: Any, action: str = "start", path: str = "") -> dict[str, Any]:
    if action == "start":
        _profiles.clear()
        main = cProfile.Profile(time.thread_time)
        _profiles.append(main)
        celery_thread.apply_target = _profiled_apply
        main.enable()
        return {"ok": "started"}
    celery_thread.apply_target = _real_apply
    _profiles[0].disable()
    _profiles[0].dump_stats(f"{path}.consumer")
    stats = pstats.Stats(_profiles[1]) if len(_profiles) > 1 else None
    for p in _profiles[2:]:
        assert stats is not None
        stats.add(p)
    if stats is not None:
        stats.dump_stats(f"{path}.tasks")
    return {"ok": f"{len(_profiles) - 1} task calls"}
