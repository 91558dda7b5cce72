"""Hard time limit for thread-pool workers: Celery cannot kill a thread, so a task running past
the limit makes the whole process exit. Its unacked messages go back to the queue (acks_late)
and the supervisor (`adgen worker`) starts a fresh process; the event's attempts are bounded."""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("adgen.watchdog")

EXIT_CODE = 75  # EX_TEMPFAIL: restart me


class Watchdog:
    def __init__(self, hard_limit_s: float, poll_s: float = 1.0) -> None:
        self.hard_limit_s = hard_limit_s
        self.poll_s = poll_s
        self._running: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="adgen-watchdog", daemon=True)
        self._thread.start()

    def started(self, task_id: str, label: str) -> None:
        with self._lock:
            self._running[task_id] = (time.monotonic(), label)

    def finished(self, task_id: str) -> None:
        with self._lock:
            self._running.pop(task_id, None)

    def overdue(self) -> list[tuple[str, str, float]]:
        now = time.monotonic()
        with self._lock:
            return [
                (tid, label, now - t0)
                for tid, (t0, label) in self._running.items()
                if now - t0 > self.hard_limit_s
            ]

    def _loop(self) -> None:
        while True:
            time.sleep(self.poll_s)
            late = self.overdue()
            if late:
                for tid, label, secs in late:
                    log.critical(
                        "task %s (%s) has run %.0fs, past the %.0fs hard limit; exiting "
                        "so the message is redelivered",
                        tid,
                        label,
                        secs,
                        self.hard_limit_s,
                    )
                logging.shutdown()
                os._exit(EXIT_CODE)
