"""Failed-login limiting: at most N failures per key (a username, a client address) in a sliding
window. In-process memory: one `adgen web` process is the deployment unit; a restart forgets."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.max_keys = max_keys  # a flood of made-up usernames must not grow memory unbounded
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def retry_after(self, *keys: str) -> float:
        """Seconds until every key may try again; 0 when none is blocked."""
        now = self.clock()
        with self._lock:
            waits = [
                q[0] + self.window_s - now
                for k in keys
                if len(q := self._recent(k, now)) >= self.max_failures
            ]
        return max(waits, default=0.0)

    def fail(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._fails) >= self.max_keys:
                for k in list(self._fails):
                    self._recent(k, now)
                if len(self._fails) >= self.max_keys:
                    self._fails.pop(next(iter(self._fails)))
            for k in keys:
                self._recent(k, now)
                self._fails.setdefault(k, deque()).append(now)

    def reset(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
