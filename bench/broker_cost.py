"""Worker CPU per event in a real event worker on RabbitMQ, beyond the event walk.

    python -m bench.broker_cost [--busy 240] [--idle 100] [--prefetch 1] [--db-wait 0,10]
                                [--bundle 1] [--json PATH]

bench/outside_models.py times the event walk in one thread; this runs the real thing: a
`celery worker` as the launcher starts it (threads pool, late acks, workers.tasks with its hooks,
batchers and context) on a private RabbitMQ vhost, Postgres and SeaweedFS, with the model forward
passes replayed (bench/worker_stub.py, the way outside_models replays them). 1-creative events
(300x250) are published through `shared.publisher.Publisher`.

Two queue states per worker configuration:
- busy: the worker stops consuming (remote control), the whole batch is published, then it
  resumes: a backlog, so the broker can hand over as many messages as the prefetch allows;
- idle: one event at a time, the next published when the previous one is done, so every
  message arrives at an empty worker.

Each worker configuration is a prefetch multiplier, a claim/commit wait
(ADGEN_DB_BATCH_MAX_WAIT_MS: how long those batchers wait for other events in flight) and a
bundle size (events per message, `Publisher.publish_bundle`; 1 = one event per message). All
figures are per event (per message when the bundle is 1); "idle" sends one message at a time.

CPU comes from inside the worker (remote-control command `adgen_thread_cpu`, per thread group
from each thread's CPU clock): the consumer thread (kombu receive, protocol decode, Celery's
request and its log line), the task threads split into the event walk (`handle_event_task`)
and the rest (Celery's trace, our task wrapper and hooks, the ack, the "succeeded" log line),
the batcher threads (claim, generate, score, commit), and other threads (watchdog, timers,
heartbeats). Each group's idle CPU rate, measured over --idle-s before the phases, is
subtracted for the phase's wall time. Each worker configuration gets a fresh worker.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import select

from bench.harness import Stack, real_stack, run_id, single_creative_events
from shared.config import Settings
from shared.db.engine import session_scope
from shared.db.models import TERMINAL_STATUSES, Event
from shared.events import CampaignEvent
from shared.publisher import Publisher
from shared.queues import GENERATE_QUEUE
from tests.support.services import WorkerProcess, start_worker

WALK = "task threads: event walk"
REST = "task threads: Celery + task wrapper"


class Probe:
    """The worker's per-thread CPU, asked over the broker."""

    def __init__(self, settings: Settings, hostname: str) -> None:
        self.app = Celery("bench-probe", broker=settings.resolved_broker_url)
        self.dest = [hostname]

    def sample(self) -> dict[str, Any]:
        for _ in range(10):
            got = self.app.control.broadcast(
                "adgen_thread_cpu", destination=self.dest, reply=True, timeout=5
            )
            if got:
                return dict(next(iter(got[0].values())))
        raise TimeoutError("the worker did not answer adgen_thread_cpu")

    def profile(self, action: str, path: str = "") -> None:
        self.app.control.broadcast(
            "adgen_profile",
            arguments={"action": action, "path": path},
            destination=self.dest,
            reply=True,
            timeout=30,
        )

    def consume(self, on: bool) -> None:
        if on:
            self.app.control.add_consumer(GENERATE_QUEUE, destination=self.dest, reply=True)
        else:
            self.app.control.cancel_consumer(GENERATE_QUEUE, destination=self.dest, reply=True)

    def close(self) -> None:
        self.app.close()


def groups(sample: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per group, the task threads split into the walk and the rest."""
    out = dict(sample["threads"])
    task = out.pop("task threads", 0.0)
    out[WALK] = sample["walk"]["cpu_s"]
    out[REST] = task - sample["walk"]["cpu_s"]
    out["process (all threads)"] = sample["process"]
    # Mean group size of the claim and commit batchers, as "group:" rows (not CPU).
    for name, (batches, items) in sample.get("batches", {}).items():
        out[f"group: {name} batches"] = batches
        out[f"group: {name} items"] = items
    return out


def diff(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b.get(k, 0.0) - a.get(k, 0.0) for k in sorted(set(a) | set(b))}


def is_done(db_url: str, ids: list[str]) -> bool:
    with session_scope(db_url) as s:
        rows = s.execute(
            select(Event.event_id).where(
                Event.event_id.in_(ids), Event.status.in_(TERMINAL_STATUSES)
            )
        ).all()
    return len(rows) == len(ids)


def wait_all(db_url: str, ids: list[str], poll_s: float, timeout_s: float = 900) -> None:
    end = time.monotonic() + timeout_s
    while not is_done(db_url, ids):
        if time.monotonic() > end:
            raise TimeoutError("events did not finish")
        time.sleep(poll_s)


def phase(
    probe: Probe,
    publisher: Publisher,
    settings: Settings,
    events: list[CampaignEvent],
    busy: bool,
    idle_rate: dict[str, float],
    profile: str = "",
    bundle: int = 1,
) -> dict[str, float]:
    """CPU ms per event of one batch, idle CPU subtracted; with `profile`, cProfile dumps of
    the consumer thread and of Celery's task-thread calls (PATH.consumer, PATH.tasks)."""
    ids = [e.event_id for e in events]
    messages = [events[i : i + bundle] for i in range(0, len(events), bundle)]

    def send(message: list[CampaignEvent]) -> None:
        if bundle == 1:
            publisher.publish(message[0])
        else:
            publisher.publish_bundle(message)

    if busy:
        probe.consume(False)
        for m in messages:
            send(m)
    if profile:
        probe.profile("start")
    a, t0 = groups(probe.sample()), time.monotonic()
    if busy:
        probe.consume(True)
        wait_all(settings.resolved_database_url, ids, poll_s=0.2)
    else:
        for m in messages:
            send(m)
            wait_all(settings.resolved_database_url, [e.event_id for e in m], poll_s=0.003)
    time.sleep(0.5)  # the last acks
    b, wall = groups(probe.sample()), time.monotonic() - t0
    if profile:
        probe.profile("stop", profile)
    used = diff(a, b)
    n = len(events)
    per = {
        k: (v - idle_rate.get(k, 0.0) * wall) * 1000 / n
        for k, v in used.items()
        if not k.startswith("group:")
    }
    for name in ("claim", "db", "generate", "score"):
        if used.get(f"group: {name} batches"):
            per[f"mean group size: {name}"] = (
                used[f"group: {name} items"] / used[f"group: {name} batches"]
            )
    per["wall ms per event"] = wall * 1000 / n
    if used[WALK] <= 0:
        raise RuntimeError("the walk was not timed: is bench.worker_stub loaded?")
    return per


@contextmanager
def stub_worker(
    stack: Stack, name: str, prefetch: int, db_wait_ms: float
) -> Iterator[WorkerProcess]:
    w = start_worker(
        {**stack.env, "ADGEN_DB_BATCH_MAX_WAIT_MS": str(db_wait_ms)},
        stack.tmp / f"{name}.log",
        name=name,
        extra=["--include", "bench.worker_stub", "--prefetch-multiplier", str(prefetch)],
    )
    try:
        w.wait_ready(timeout_s=300)
        yield w
    finally:
        w.terminate(timeout_s=120)


def run_config(
    stack: Stack,
    settings: Settings,
    prefetch: int,
    db_wait_ms: float,
    n_busy: int,
    n_idle: int,
    idle_s: float,
    profile: str = "",
    bundle: int = 1,
) -> dict[str, dict[str, float]]:
    name = f"bench{prefetch}w{db_wait_ms:g}b{bundle}".replace(".", "_")
    tag = f"x{prefetch}-w{db_wait_ms:g}-b{bundle}"
    rid = run_id()
    with stub_worker(stack, name, prefetch, db_wait_ms):
        probe = Probe(settings, f"{name}@{socket.gethostname()}")
        publisher = Publisher(settings)
        try:
            warm = single_creative_events(f"w{rid}", 40)
            phase(probe, publisher, settings, warm, True, {})  # caches, pools, connections
            a, t0 = groups(probe.sample()), time.monotonic()
            time.sleep(idle_s)
            b, wall = groups(probe.sample()), time.monotonic() - t0
            idle_rate = {k: v / wall for k, v in diff(a, b).items() if not k.startswith("group:")}
            busy = phase(
                probe,
                publisher,
                settings,
                single_creative_events(f"b{rid}", n_busy),
                True,
                idle_rate,
                f"{profile}-{tag}-busy" if profile else "",
                bundle,
            )
            idle = phase(
                probe,
                publisher,
                settings,
                single_creative_events(f"i{rid}", n_idle),
                False,
                idle_rate,
                f"{profile}-{tag}-idle" if profile else "",
                bundle,
            )
        finally:
            publisher.close()
            probe.close()
    return {"busy queue": busy, "idle queue": idle}


def beyond_walk(per: dict[str, float]) -> float:
    """What bench.outside_models does not count: Celery's consumer thread, Celery's work in
    the task threads, and the other threads (the batchers' work is the walk's claim, commit and
    models, counted there)."""
    return per["consumer (main thread)"] + per[REST] + per.get("other threads", 0.0)


def print_table(report: dict[str, dict[str, dict[str, float]]]) -> None:
    cols = [(cfg, q) for cfg, by_q in report.items() for q in by_q]
    keys = sorted({k for cfg, q in cols for k in report[cfg][q]})
    print(f"{'CPU ms per event':40s}" + "".join(f"{c + ', ' + q:>26s}" for c, q in cols))
    for k in keys:
        print(f"{k:40s}" + "".join(f"{report[c][q].get(k, 0.0):26.3f}" for c, q in cols))
    print(
        f"{'beyond the walk (consumer+Celery+other)':40s}"
        + "".join(f"{beyond_walk(report[c][q]):26.3f}" for c, q in cols)
    )
    base = report[cols[0][0]]
    for c, q in cols:
        ratio = report[c][q]["process (all threads)"] / base["busy queue"]["process (all threads)"]
        print(f"process CPU per event, {c}, {q}: {ratio:.2f}x of {cols[0][0]}, busy queue")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", type=int, default=240, help="messages in the backlog phase")
    ap.add_argument("--idle", type=int, default=100, help="messages sent one at a time")
    ap.add_argument("--prefetch", default="1", help="worker prefetch multipliers to compare")
    ap.add_argument(
        "--db-wait",
        default="0,10",
        help="ADGEN_DB_BATCH_MAX_WAIT_MS values to compare (0: the claim and commit batchers "
        "never wait for events in flight, as before session 11)",
    )
    ap.add_argument(
        "--bundle",
        default="1",
        help="events per message to compare (1: one event per message; N: publish_bundle)",
    )
    ap.add_argument("--idle-s", type=float, default=5.0, help="idle CPU measured over this")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--profile",
        default="",
        help="PATH prefix for cProfile dumps of each phase (thread CPU clock; profiling "
        "inflates the figures, so use a run without it for them)",
    )
    args = ap.parse_args()
    report: dict[str, dict[str, dict[str, float]]] = {}
    with real_stack() as stack:
        settings = stack.settings()
        configs = [
            (int(m), float(w), int(b))
            for m in args.prefetch.split(",")
            for w in args.db_wait.split(",")
            for b in args.bundle.split(",")
        ]
        for m, w, b in configs:
            cfg = f"prefetch x{m}, db wait {w:g} ms, bundle {b}"
            report[cfg] = run_config(
                stack, settings, m, w, args.busy, args.idle, args.idle_s, args.profile, b
            )
            busy, idle = report[cfg]["busy queue"], report[cfg]["idle queue"]
            print(
                f"{cfg}: process {busy['process (all threads)']:.2f} ms/event busy, "
                f"{idle['process (all threads)']:.2f} idle; beyond the walk "
                f"{beyond_walk(busy):.2f} busy, {beyond_walk(idle):.2f} idle",
                flush=True,
            )
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
