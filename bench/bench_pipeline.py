"""Benchmarks 1-3 through the real system (RabbitMQ, Postgres, SeaweedFS, a warm worker).

1. Model-bound ratio: end-to-end creatives/s ÷ raw generator images/s, same worker config.
2. Batching gain: end-to-end creatives/s for 1-creative events, batching on ÷ off.
3. Latency p50/p95 from publish to done at light load, with the stage breakdown.

    python -m bench.bench_pipeline [--events 300] [--model DIR] [--concurrency 8] [--batch 64]

Ratios are measured in one run on the same machine (absolute numbers are noisy).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import urllib.request
from pathlib import Path

import torch
from sqlalchemy import func, select

from bench.cpu import cpu_by_group, delta
from bench.harness import (
    mean,
    percentile,
    publish_stream,
    real_stack,
    run_id,
    single_creative_events,
    wait_done,
    warm_worker,
)
from bench.plot_costs import plot_costs
from bench.stage_costs import stage_costs
from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Creative, Event
from shared.generation import GeneratorRuntime, save_untrained_model
from shared.personalize import plan_event
from tests.support.services import free_port

WORKER_ENV: dict[str, str] = {}


def raw_generator_rate(
    model_dir: Path, events: list, batch: int, dtype: str, seconds: float = 20.0
) -> tuple[float, int]:
    """Images/s of GeneratorRuntime.generate (text encoding included, as in the worker)."""
    rt = GeneratorRuntime.load(model_dir, "cpu", max_batch=batch, dtype=dtype)
    reqs = [r for ev in events for r in plan_event(ev).images]
    rt.generate([r.prompt for r in reqs[:batch]], [r.seed for r in reqs[:batch]])  # warm
    n, t0, i = 0, time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        chunk = [reqs[(i + k) % len(reqs)] for k in range(batch)]
        rt.generate([r.prompt for r in chunk], [r.seed + i for r in chunk])
        n += batch
        i += batch
    return n / (time.perf_counter() - t0), n


def batching_env(batch: int, wait_ms: float) -> dict[str, str]:
    """batch 1 turns every cross-event batch off: generator, scoring and group commit."""
    return {
        "ADGEN_BATCH_MAX_SIZE": str(batch),
        "ADGEN_BATCH_MAX_WAIT_MS": str(wait_ms),
        "ADGEN_SCORE_BATCH_MAX_SIZE": str(batch),
        "ADGEN_DB_BATCH_MAX_SIZE": str(batch),
    }


def mean_group_sizes(port: int) -> dict[str, float]:
    """Mean items per pass from the worker's metrics: generator images, scoring images, and
    events per database transaction."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith(("adgen_batch_size_", "adgen_group_size_")) and " " in line
    }

    def mean(prefix: str, label: str = "") -> float:
        n = values.get(f"{prefix}_count{label}", 0.0)
        return values.get(f"{prefix}_sum{label}", 0.0) / n if n else float("nan")

    return {
        "generate": mean("adgen_batch_size"),
        "score": mean("adgen_group_size", '{stage="score"}'),
        "db": mean("adgen_group_size", '{stage="db"}'),
    }


def e2e_rate(
    stack, events: list, concurrency: int, batch: int, wait_ms: float, label: str
) -> tuple[float, float, dict[str, float], dict[str, float]]:
    """Drain rate of a pre-filled queue: the events are published before the worker starts,
    so the worker never waits on the publisher and the publisher's CPU is not counted.
    Rate = creatives / (last finished_at - first started_at); CPU split from ready to done."""
    s = stack.settings()
    publish_stream(s, events)
    ids = [e.event_id for e in events]
    port = free_port()
    with warm_worker(
        stack, label, concurrency, {**WORKER_ENV, **batching_env(batch, wait_ms)}, metrics_port=port
    ):
        cpu0 = cpu_by_group()
        wait_done(s.resolved_database_url, ids)
        cpu = delta(cpu0, cpu_by_group())
        groups = mean_group_sizes(port)
    with session_scope(s.resolved_database_url) as sess:
        first, last = sess.execute(
            select(func.min(Event.started_at), func.max(Event.finished_at)).where(
                Event.event_id.in_(ids)
            )
        ).one()
    assert first is not None and last is not None, "no event finished"
    seconds = (last - first).total_seconds()
    n = sum(e.creative_count for e in events)
    return n / seconds, seconds, {k: v * 1000 / n for k, v in cpu.items()}, groups


def latency(
    stack, events: list, concurrency: int, batch: int, wait_ms: float, interval_s: float
) -> dict[str, float]:
    with warm_worker(stack, "latency", concurrency, {**WORKER_ENV, **batching_env(batch, wait_ms)}):
        s = stack.settings()
        sent = publish_stream(s, events, interval_s=interval_s)
        wait_done(s.resolved_database_url, list(sent))
    ids = list(sent)
    with session_scope(s.resolved_database_url) as sess:
        evs = sess.execute(select(Event).where(Event.event_id.in_(ids))).scalars().all()
        crs = sess.execute(select(Creative).where(Creative.event_id.in_(ids))).scalars().all()
        lat = [
            (e.finished_at - sent[e.event_id]).total_seconds() * 1000
            for e in evs
            if e.finished_at is not None
        ]
        wait = [
            (e.started_at - sent[e.event_id]).total_seconds() * 1000
            for e in evs
            if e.started_at is not None
        ]
        proc = [e.processing_ms or 0 for e in evs]
        return {
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "queue_wait_ms": mean(wait),
            "processing_ms": mean(proc),
            "generate_ms": mean([c.generate_ms or 0 for c in crs]),
            "compose_ms": mean([c.compose_ms or 0 for c in crs]),
            "encode_ms": mean([c.encode_ms or 0 for c in crs]),
            "upload_ms": mean([c.upload_ms or 0 for c in crs]),
        }


def cpu_line(cpu: dict[str, float]) -> str:
    order = ["worker", "postgres", "rabbitmq", "s3", "bench", "other"]
    return ", ".join(f"{k} {cpu[k]:.1f}" for k in order if k in cpu) + (
        f" (total {sum(cpu.values()):.1f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--wait-ms", type=float, default=50.0)
    ap.add_argument("--latency-events", type=int, default=40)
    ap.add_argument("--latency-interval", type=float, default=0.5)
    ap.add_argument("--torch-threads", type=int, default=0, help="0 = torch default")
    ap.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    ap.add_argument("--plot", type=Path, default=None, help="write the CPU split as a PNG")
    args = ap.parse_args()
    WORKER_ENV.update(ADGEN_TORCH_THREADS=str(args.torch_threads), ADGEN_INFERENCE_DTYPE=args.dtype)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    model_dir = args.model or get_settings().resolved_model_dir
    note = ""
    if not (model_dir / "config.json").exists():
        model_dir = save_untrained_model(Path("/tmp/adgen-bench-model"), seed=0)
        note = " (untrained weights, default architecture: same compute)"
    rid = run_id()
    stream = single_creative_events(f"b{rid}", args.events)
    print(
        f"host: {platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, model {model_dir}{note}"
    )

    raw, n_raw = raw_generator_rate(model_dir, stream, args.batch, args.dtype)
    print(f"raw generator: {raw:.1f} images/s at batch {args.batch} ({n_raw} images)")
    with real_stack(model_dir) as stack:
        batched, t_b, cpu_b, groups_b = e2e_rate(
            stack, stream, args.concurrency, args.batch, args.wait_ms, "batched"
        )
        print(f"end-to-end batched: {batched:.1f} creatives/s ({args.events} events, {t_b:.1f}s)")
        print("  CPU ms per creative: " + cpu_line(cpu_b))
        print(
            "  mean per pass: "
            + ", ".join(f"{k} {v:.1f}" for k, v in groups_b.items())
            + " (generator/scoring images, events per DB transaction)"
        )
        n_un = max(20, args.events // 3)
        unb_stream = single_creative_events(f"u{rid}", n_un)
        unbatched, t_u, cpu_u, _ = e2e_rate(
            stack, unb_stream, args.concurrency, 1, 0.0, "unbatched"
        )
        print(
            f"end-to-end unbatched (batch 1): {unbatched:.1f} creatives/s "
            f"({n_un} events, {t_u:.1f}s)"
        )
        print("  CPU ms per creative: " + cpu_line(cpu_u))
        lat = latency(
            stack,
            single_creative_events(f"l{rid}", args.latency_events),
            args.concurrency,
            args.batch,
            args.wait_ms,
            args.latency_interval,
        )
        stages = stage_costs(
            model_dir,
            single_creative_events(f"c{rid}", 256),
            stack.settings(),
            args.batch,
            args.dtype,
        )

    # Cart and recommendation creatives show several generated images: the generator's share
    # of the work is images, so its utilisation is e2e images/s over raw images/s.
    ipc = sum(len(plan_event(e).images) for e in stream) / sum(e.creative_count for e in stream)
    print("\n| benchmark | value | target |\n|---|---|---|")
    print(
        f"| 1. model-bound ratio (e2e {batched:.1f} creatives/s / raw {raw:.1f} images/s) | "
        f"**{batched / raw:.2f}** | ≥ 0.7 |"
    )
    print(
        f"| 1b. generator utilisation (e2e {batched * ipc:.1f} images/s, {ipc:.2f} images per "
        f"creative / raw {raw:.1f}) | **{batched * ipc / raw:.2f}** | — |"
    )
    print(
        f"| 2. batching gain (e2e {batched:.1f} / {unbatched:.1f} creatives/s) | "
        f"**{batched / unbatched:.2f}×** | ≥ 4× |"
    )
    print(
        f"| 3. latency publish→done at light load ({args.latency_events} events, one per "
        f"{args.latency_interval}s) | p50 {lat['p50_ms']:.0f} ms, p95 {lat['p95_ms']:.0f} ms | "
        "— |"
    )
    print(
        "\nstage breakdown at light load (mean ms per event / creative): "
        + ", ".join(
            f"{k.removesuffix('_ms')} {v:.1f}"
            for k, v in lat.items()
            if k not in ("p50_ms", "p95_ms")
        )
    )

    inside = {
        **stages,
        "Celery, threads, logs (rest)": max(0.0, cpu_b.get("worker", 0.0) - sum(stages.values())),
    }
    print(
        f"\nwhere a creative's CPU goes, batched ({sum(cpu_b.values()):.1f} ms on the host, "
        f"{cpu_b.get('worker', 0.0):.1f} in the worker):"
    )
    print("| part | CPU ms per creative |\n|---|---|")
    for k, v in inside.items():
        print(f"| worker: {k} | {v:.1f} |")
    for k in ("postgres", "rabbitmq", "s3", "bench", "other"):
        print(
            f"| {k} server | {cpu_b.get(k, 0.0):.1f} |"
            if k in ("postgres", "rabbitmq", "s3")
            else f"| {k} | {cpu_b.get(k, 0.0):.1f} |"
        )
    if args.plot:
        services = {
            "Postgres": cpu_b.get("postgres", 0.0),
            "RabbitMQ": cpu_b.get("rabbitmq", 0.0),
            "S3 server": cpu_b.get("s3", 0.0),
            "bench + other": cpu_b.get("bench", 0.0) + cpu_b.get("other", 0.0),
        }
        unb = {
            "worker (all stages)": cpu_u.get("worker", 0.0),
            **{
                k: v
                for k, v in zip(
                    services,
                    (
                        cpu_u.get("postgres", 0.0),
                        cpu_u.get("rabbitmq", 0.0),
                        cpu_u.get("s3", 0.0),
                        cpu_u.get("bench", 0.0) + cpu_u.get("other", 0.0),
                    ),
                    strict=True,
                )
            },
        }
        path = plot_costs(
            {
                f"batched\n{batched:.0f}/s": {**inside, **services},
                f"unbatched\n{unbatched:.0f}/s": unb,
            },
            args.plot,
            f"Where a creative's CPU time goes (raw generator {raw:.0f} images/s, "
            f"1-creative events, {platform.machine()} x{os.cpu_count()})",
            order=[*inside, *unb],
        )
        print(f"\nplot: {path}")


if __name__ == "__main__":
    main()
