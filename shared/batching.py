"""Cross-event micro-batching: many callers' small requests, one generator forward pass.

Each caller submits a group (one event's image requests) and gets a Future for its own results.
A single batching thread collects groups until `max_batch` items are queued or `max_wait_s` has
passed since the oldest waiting group, runs one call on the concatenation, and hands each group
its slice. Groups are never split across batches unless a group alone exceeds `max_batch`. With an
`expected` callback (how many callers are still on their way) it stops waiting as soon as
nobody else can come.
On a device out-of-memory error the batch is halved and retried (recorded, never a crash loop).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger("adgen.batching")

In = TypeVar("In")
Out = TypeVar("Out")


def is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    oom_splits: int = 0
    sizes: list[int] = field(default_factory=list)


@dataclass
class _Group(Generic[In, Out]):
    items: Sequence[In]
    future: Future[list[Out]]
    enqueued: float


class MicroBatcher(Generic[In, Out]):
    def __init__(
        self,
        fn: Callable[[list[In]], list[Out]],
        max_batch: int = 64,
        max_wait_s: float = 0.02,
        on_batch: Callable[[int, float], None] | None = None,
        on_oom: Callable[[int], None] | None = None,
        name: str = "generate",
        expected: Callable[[], int] | None = None,
    ) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch >= 1 and max_wait_s >= 0")
        self.fn, self.max_batch, self.max_wait_s = fn, max_batch, max_wait_s
        self.on_batch, self.on_oom = on_batch, on_oom
        # How many callers may still submit soon (e.g. events received but not yet at this
        # stage). When it is 0 there is nobody to wait for: the batch runs at once, so a lone
        # event at light load does not pay max_wait_s in latency.
        self.expected = expected
        self.stats = BatchStats()
        self._queue: deque[_Group[In, Out]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=f"adgen-batch-{name}", daemon=True)
        self._thread.start()

    def submit(self, items: Sequence[In]) -> Future[list[Out]]:
        fut: Future[list[Out]] = Future()
        if not items:
            fut.set_result([])
            return fut
        with self._cond:
            if self._closed:
                raise RuntimeError("batcher is closed")
            self._queue.append(_Group(items, fut, time.monotonic()))
            self._cond.notify()
        return fut

    def poke(self) -> None:
        """Re-check `expected` now (a caller it counted will not submit after all)."""
        with self._cond:
            self._cond.notify()

    def __call__(self, items: Sequence[In], timeout: float | None = None) -> list[Out]:
        return self.submit(items).result(timeout=timeout)

    def close(self, timeout: float = 30) -> None:
        """Stop after the queued groups are done."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _take(self) -> list[_Group[In, Out]] | None:
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            deadline = self._queue[0].enqueued + self.max_wait_s
            while sum(len(g.items) for g in self._queue) < self.max_batch and not self._closed:
                if self.expected is not None and self.expected() <= 0:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            groups: list[_Group[In, Out]] = []
            total = 0
            while self._queue and (
                not groups or total + len(self._queue[0].items) <= self.max_batch
            ):
                g = self._queue.popleft()
                groups.append(g)
                total += len(g.items)
            return groups

    def _loop(self) -> None:
        while (groups := self._take()) is not None:
            flat = [x for g in groups for x in g.items]
            t0 = time.perf_counter()
            try:
                out = self._run(flat)
            except BaseException as exc:  # noqa: BLE001 - delivered to every waiting caller
                for g in groups:
                    g.future.set_exception(exc)
                continue
            seconds = time.perf_counter() - t0
            self.stats.batches += 1
            self.stats.items += len(flat)
            self.stats.sizes.append(len(flat))
            if self.on_batch:
                self.on_batch(len(flat), seconds)
            i = 0
            for g in groups:
                g.future.set_result(out[i : i + len(g.items)])
                i += len(g.items)

    def _run(self, items: list[In]) -> list[Out]:
        try:
            return self.fn(items)
        except Exception as exc:
            if not is_oom(exc) or len(items) == 1:
                raise
            self.stats.oom_splits += 1
            if self.on_oom:
                self.on_oom(len(items))
            log.warning("out of memory at batch %d: splitting in half and retrying", len(items))
            _free_device_cache()
            half = len(items) // 2
            return self._run(items[:half]) + self._run(items[half:])


class Upstream:
    """Counts callers on their way to a batcher: they have started (an event task began) but
    not yet arrived (submitted) or left without submitting (a duplicate, a rejected event).
    Pass it as a batcher's `expected`; call `arrived()` right before submitting."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self.on_change: Callable[[], None] | None = None

    def __call__(self) -> int:
        return self._n

    @contextmanager
    def track(self) -> Iterator[None]:
        with self._lock:
            self._n += 1
        self._local.pending = True
        try:
            yield
        finally:
            self.arrived()

    def arrived(self) -> None:
        if getattr(self._local, "pending", False):
            self._local.pending = False
            with self._lock:
                self._n -= 1
            if self.on_change is not None:
                self.on_change()


class Entrance(Generic[In, Out]):
    """How callers counted by ``upstream`` (the batcher's ``expected``) reach ``batcher``: each
    is marked arrived right before it submits, and every change wakes the batcher to re-check
    whether anybody is still on the way. Called with the items, and a timeout for the result
    (``timeout`` when none is given)."""

    def __init__(self, batcher: MicroBatcher[In, Out], upstream: Upstream, timeout: float):
        if batcher.expected is not upstream:
            raise ValueError("the batcher must wait on this upstream (expected=upstream)")
        self.batcher, self.upstream, self.timeout = batcher, upstream, timeout
        upstream.on_change = batcher.poke

    def __call__(self, items: Sequence[In], timeout: float | None = None) -> list[Out]:
        self.upstream.arrived()
        return self.batcher(items, timeout=self.timeout if timeout is None else timeout)


def _free_device_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
