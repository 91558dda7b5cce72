"""A burst of 5,000 small events: all complete, the queue drains, worker memory stays bounded.

Slow (minutes on 2 cores): excluded from the default run; `pytest -m slow tests/faults`.
Prints the drain time and the workers' peak RSS.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.config import get_settings
from shared.publisher import Publisher
from tests.conftest import set_env
from tests.faults.conftest import assert_exactly_once, stream, wait_all_terminal
from tests.support.services import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_EVENTS = 5000


def _tree_peak_rss_mb(root_pid: int) -> float:
    """Sum of VmHWM (peak resident set) over the process group's live processes."""
    out = subprocess.run(
        ["pgrep", "-g", str(os.getpgid(root_pid))], capture_output=True, text=True
    ).stdout.split()
    total = 0
    for pid in out:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def test_burst_of_5000_events_drains_with_bounded_memory(
    stack: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    set_env(monkeypatch, stack, ADGEN_WORKER_CONCURRENCY="16", ADGEN_TORCH_THREADS="1")
    sup = worker_factory(stack, supervised=True)
    rss_start = _tree_peak_rss_mb(sup.proc.pid)
    events = stream("burst", N_EVENTS, sizes=["320x50"])
    pub = Publisher(get_settings())
    t0 = time.perf_counter()
    for ev in events:
        pub.publish(ev)
    t_published = time.perf_counter() - t0
    statuses = wait_all_terminal([e.event_id for e in events], timeout_s=3600)
    drain = time.perf_counter() - t0
    peak = _tree_peak_rss_mb(sup.proc.pid)
    counts = assert_exactly_once(events)
    print(
        f"\nburst: {N_EVENTS} events published in {t_published:.1f}s, drained in {drain:.1f}s "
        f"({N_EVENTS / drain:.1f} events/s); worker peak RSS {peak:.0f} MB "
        f"(after warm-up {rss_start:.0f} MB); {counts}"
    )
    assert set(statuses.values()) == {"done"}
    assert counts["done"] == counts["creatives"] == counts["objects"] == N_EVENTS
    assert peak < rss_start + 1024, "worker memory grew by more than 1 GiB during the burst"
