"""A per-event deadline that the event path checks between stages and bounds its waits with.

Celery's soft time limit does nothing on the threads pool our device workers run, so the limit is
enforced here, in the event's own thread: a stage that would start after the deadline raises
`DeadlineExceeded` (a transient error: the event is retried with backoff, bounded), and waits on
the shared generator batcher are capped by the time left. The hard limit stays with the watchdog.
"""

from __future__ import annotations

import time


class DeadlineExceeded(TimeoutError):
    pass


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def check(self, stage: str) -> None:
        if time.monotonic() >= self._end:
            raise DeadlineExceeded(f"event deadline of {self.seconds:.0f}s passed before {stage}")
