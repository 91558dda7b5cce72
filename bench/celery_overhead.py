"""Celery's own CPU per event task in a real worker on RabbitMQ: task events, log lines,
prefetch.

    python -m bench.celery_overhead [--tasks 1500] [--json PATH]

Starts the worker's Celery application with a task that does nothing (bench/celery_noop.py;
same configuration, threads pool, late acks) as a real `celery worker` process on a private
RabbitMQ vhost, publishes sample events through `shared.publisher.Publisher`, waits until the
queue is drained, and reads the worker process's CPU (user + system, all its threads, from
/proc) before and after. The worker's idle CPU over the same wall time (heartbeats) is
measured apart and subtracted. Each configuration gets its own fresh worker.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kombu import Connection

from shared.config import Settings, reset_settings_cache
from shared.publisher import Publisher
from shared.queues import GENERATE_QUEUE
from shared.samples import sample_events
from tests.support.services import rabbit_vhost

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Variant:
    name: str
    task_events: bool
    loglevel: str
    prefetch: int


VARIANTS = (
    Variant("task events on, INFO logs, prefetch 1 (before)", True, "INFO", 1),
    Variant("task events off, INFO logs, prefetch 1", False, "INFO", 1),
    Variant("task events off, WARNING logs, prefetch 1", False, "WARNING", 1),
    Variant("task events off, INFO logs, prefetch 4", False, "INFO", 4),
)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


def queue_depth(broker: str) -> int:
    with Connection(broker) as conn:
        return int(conn.default_channel.queue_declare(GENERATE_QUEUE, passive=True).message_count)


def drain(broker: str, timeout_s: float = 600) -> None:
    end = time.monotonic() + timeout_s
    while queue_depth(broker) > 0:
        if time.monotonic() > end:
            raise TimeoutError("the worker did not drain the queue")
        time.sleep(0.2)
    time.sleep(1.0)  # the last few in flight: done and acked


def run_variant(v: Variant, broker: str, n: int, env: dict[str, str]) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.celery_noop",
        "worker",
        "--pool",
        "threads",
        "--concurrency",
        "4",
        "--queues",
        GENERATE_QUEUE,
        "--prefetch-multiplier",
        str(v.prefetch),
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        v.loglevel,
        "--hostname",
        f"bench-{os.getpid()}@%h",
    ]
    worker_env = {**env, "ADGEN_TASK_EVENTS": "1" if v.task_events else "0"}
    log = open(os.devnull, "wb")  # noqa: SIM115 - the worker's own log lines still cost it CPU
    proc = subprocess.Popen(cmd, env=worker_env, stdout=log, stderr=log)
    try:
        publisher = Publisher(Settings())
        events = sample_events(f"c{os.getpid()}{v.prefetch}{int(v.task_events)}")
        warm = [
            e.model_copy(update={"event_id": f"{e.event_id}-w{i}"})
            for i in range(100)
            for e in events[:1]
        ]
        for e in warm:
            publisher.publish(e)
        drain(broker)
        idle0, t0 = cpu_s(proc.pid), time.monotonic()
        time.sleep(5.0)
        idle_rate = (cpu_s(proc.pid) - idle0) / (time.monotonic() - t0)
        batch = [
            events[i % len(events)].model_copy(
                update={"event_id": f"{events[i % len(events)].event_id}-{i}"}
            )
            for i in range(n)
        ]
        c0, t0 = cpu_s(proc.pid), time.monotonic()
        for e in batch:
            publisher.publish(e)
        drain(broker)
        wall = time.monotonic() - t0
        used = cpu_s(proc.pid) - c0 - idle_rate * wall
        publisher.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    out = {
        "worker_cpu_ms_per_task": used * 1000 / n,
        "idle_cpu_ms_per_s": idle_rate * 1000,
        "tasks": n,
        "wall_s": wall,
    }
    print(f"{v.name:48s} {out['worker_cpu_ms_per_task']:6.3f} ms CPU per task", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1500)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with rabbit_vhost() as broker:
        env = {**os.environ, "ADGEN_BROKER_URL": broker, "PYTHONUNBUFFERED": "1"}
        os.environ["ADGEN_BROKER_URL"] = broker
        reset_settings_cache()
        report = {v.name: run_variant(v, broker, args.tasks, env) for v in VARIANTS}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
