"""Benchmark 5: the feedback loop through the real broker and database.

    PYTHONPATH=. python -m bench.bench_feedback [--impressions 100000] [--round-size 2500]

A fresh Postgres database and RabbitMQ vhost; a real feedback worker process
(`celery -A workers.feedback_app worker`, threads pool, 2 deliveries in flight). Three parts:

1. Policies: the synthetic audience (shared/feedback/simulate.py) served by uniform, Thompson with
   a flat prior and Thompson with the quality prior, `--impressions` each on the same seeded world.
   Every round: plan from Postgres -> draws -> feedback published to `adgen.feedback` -> consumed
   into Postgres -> `adgen.refresh_plan` through the broker -> new plan. One refresh per
   `--round-size` impressions.
2. Ingestion throughput: `--throughput-events` feedback events published as fast as the publisher
   can, timed until the last one is stored.
3. Click-to-plan lag with Celery beat: a second worker with embedded beat refreshing every
   `--beat-interval` s; one click at a time, timed from publish until the serving plan counts it.

Writes bench/feedback_results.json (with the per-round traces) and bench/feedback_regret.png;
`--parts lag` (etc.) reruns one part and keeps the others' results.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sqlalchemy import select

from shared.config import Settings, reset_settings_cache
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.feedback import simrun, simulate
from shared.feedback.models import ServingPlanRow
from shared.feedback.publish import FeedbackPublisher
from tests.support.services import postgres_database, rabbit_vhost
from workers.launcher import feedback_worker_command

POLICIES = ("uniform", "thompson_flat", "thompson_quality")
OUT = Path(__file__).resolve().parent


@contextmanager
def feedback_worker(
    env: dict[str, str], log: Path, beat: bool = False, concurrency: int = 2
) -> Iterator[subprocess.Popen[bytes]]:
    cmd = feedback_worker_command(
        concurrency, f"feedback-{'beat' if beat else 'plain'}@%h", "WARNING", beat
    )
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(6)  # WARNING log level prints no "ready."; the first round waits anyway
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)


def settings_for(env: dict[str, str]) -> Settings:
    for k, v in env.items():
        os.environ[k] = v
    reset_settings_cache()
    return Settings()


def run_policies(
    settings: Settings, impressions: int, round_size: int, seed: int
) -> dict[str, simrun.Trace]:
    transport = simrun.BrokerTransport(settings, timeout_s=300)
    traces = {}
    for pol in POLICIES:
        traces[pol] = simrun.run(
            policy=pol,
            transport=transport,
            settings=settings,
            impressions=impressions,
            round_size=round_size,
            seed=seed,
        )
        print(json.dumps({k: v for k, v in traces[pol].summary().items()}), flush=True)
    transport.close()
    return traces


def throughput(settings: Settings, events: int, seed: int) -> dict[str, Any]:
    """Impressions (plus a click on ~3% of them) for one campaign, published as fast as the
    publisher goes; timed until the last row is stored."""
    world = simulate.make_world(seed, 12)
    with session_scope(settings.resolved_database_url) as s:
        ids = simulate.install(world, session=s, campaign="throughput")
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC) - timedelta(minutes=1)
    wire: list[dict[str, Any]] = []
    i = 0
    while len(wire) < events:
        common = {
            "impression_id": f"t{i}",
            "creative_id": ids[i % len(ids)],
            "campaign": "throughput",
            "size": simulate.SIZE,
            "segment": simulate.SEGMENTS[i % 3],
            "selection_probability": 1 / len(ids),
            "occurred_at": now.isoformat(),
        }
        wire.append({"id": f"t{i}", "kind": "impression", **common})
        if rng.random() < 0.03:
            wire.append({"id": f"t{i}-c", "kind": "click", **common})
        i += 1
    pub = FeedbackPublisher(settings)
    t0 = time.monotonic()
    deliveries = pub.publish_batch(wire)
    published = time.monotonic() - t0
    url = settings.resolved_database_url
    while simrun.stored_rows(url, "throughput") < len(wire):
        time.sleep(0.05)
    total = time.monotonic() - t0
    pub.close()
    return {
        "events": len(wire),
        "deliveries": deliveries,
        "publish_s": published,
        "publish_events_per_s": len(wire) / published,
        "stored_s": total,
        "events_per_s": len(wire) / total,
    }


def beat_lag(settings: Settings, trials: int, seed: int) -> list[float]:
    """One impression + click at a time; seconds until the serving plan counts the click."""
    world = simulate.make_world(seed + 7, 6)
    url = settings.resolved_database_url
    with session_scope(url) as s:
        ids = simulate.install(world, session=s, campaign="lag")
    pub = FeedbackPublisher(settings)
    lags = []

    def clicks_in_plan() -> int:
        with session_scope(url) as s:
            row = s.execute(
                select(ServingPlanRow.clicks).where(
                    ServingPlanRow.campaign_id == "lag",
                    ServingPlanRow.segment == "sporty",
                    ServingPlanRow.creative_id == ids[0],
                )
            ).scalar_one_or_none()
        return int(row or 0)

    for k in range(trials):
        before = clicks_in_plan()
        common = {
            "impression_id": f"lag{k}",
            "creative_id": ids[0],
            "campaign": "lag",
            "size": simulate.SIZE,
            "segment": "sporty",
            "selection_probability": 0.5,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        t0 = time.monotonic()
        pub.publish_batch(
            [
                {"id": f"lag{k}", "kind": "impression", **common},
                {"id": f"lag{k}-c", "kind": "click", **common},
            ]
        )
        while clicks_in_plan() <= before:
            if time.monotonic() - t0 > 120:
                raise TimeoutError("the plan never counted the click")
            time.sleep(0.02)
        lags.append(time.monotonic() - t0)
        time.sleep(float(np.random.default_rng(k).uniform(0, 1)))  # not in step with beat
    pub.close()
    return lags


def plot(traces: dict[str, simrun.Trace], path: Path) -> None:
    fig = Figure(figsize=(11, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    colours = {"uniform": "#9aa0a6", "thompson_flat": "#DD8452", "thompson_quality": "#4C72B0"}
    oracle = None
    for pol, t in traces.items():
        n = np.array(t.impressions)
        regret = np.array(t.oracle_clicks) - np.array(t.expected_clicks)
        ax1.plot(n, regret, label=pol, color=colours[pol])
        ax2.plot(
            n,
            100 * np.array(t.expected_clicks) / n,
            label=f"{pol} (cumulative)",
            color=colours[pol],
        )
        ax2.plot(
            n,
            100 * np.array(t.plan_ctr[1:]),
            ls="--",
            color=colours[pol],
            label=f"{pol} (plan after refresh)",
        )
        oracle = t.oracle_ctr
    if oracle is not None:
        ax2.axhline(100 * oracle, color="black", lw=1, label="oracle")
    ax1.set(
        xlabel="impressions",
        ylabel="cumulative regret (expected clicks lost)",
        title="Regret vs the oracle",
    )
    ax2.set(xlabel="impressions", ylabel="CTR %", title="CTR over impressions")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=7, ncol=2)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--impressions", type=int, default=100_000)
    ap.add_argument("--round-size", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--throughput-events", type=int, default=100_000)
    ap.add_argument("--lag-trials", type=int, default=10)
    ap.add_argument("--beat-interval", type=float, default=1.0)
    ap.add_argument(
        "--parts",
        default="policies,throughput,lag",
        help="comma-separated; results of other parts are kept from the last run",
    )
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    path = OUT / "feedback_results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    results.setdefault("args", {}).update({p: vars(args) for p in parts})
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adgen-fb-bench-")))
        pg = stack.enter_context(postgres_database())
        upgrade(pg)
        amqp = stack.enter_context(rabbit_vhost())
        env = {
            "ADGEN_HOME": str(tmp / "home"),
            "ADGEN_BROKER_URL": amqp,
            "ADGEN_DATABASE_URL": pg,
            "ADGEN_METRICS_PORT": "0",
            "ADGEN_FEEDBACK_MAX_BATCH": "1000",
        }
        settings = settings_for(env)
        if parts & {"policies", "throughput"}:
            with feedback_worker(env, tmp / "worker.log"):
                if "policies" in parts:
                    t0 = time.monotonic()
                    traces = run_policies(settings, args.impressions, args.round_size, args.seed)
                    results["policies"] = {p: t.summary() for p, t in traces.items()}
                    results["traces"] = {p: asdict(t) for p, t in traces.items()}
                    results["policies_wall_s"] = time.monotonic() - t0
                if "throughput" in parts:
                    results["throughput"] = throughput(settings, args.throughput_events, args.seed)
                    print(json.dumps(results["throughput"]), flush=True)
        if "lag" in parts:
            beat_env = {**env, "ADGEN_FEEDBACK_REFRESH_INTERVAL_S": str(args.beat_interval)}
            with feedback_worker(beat_env, tmp / "beat.log", beat=True):
                lags = beat_lag(settings, args.lag_trials, args.seed)
            results["beat_lag_s"] = {
                "interval_s": args.beat_interval,
                "lags": lags,
                "p50": float(np.median(lags)),
                "max": max(lags),
            }
            print(json.dumps(results["beat_lag_s"]), flush=True)
        dispose_engines()
    if "policies" in results:
        u = results["policies"]["uniform"]
        for pol in POLICIES[1:]:
            p = results["policies"][pol]
            p["lift_over_uniform"] = p["expected_ctr"] / u["expected_ctr"] - 1
            p["final_plan_lift_over_uniform"] = p["final_plan_ctr"] / u["final_plan_ctr"] - 1
        plot(
            {p: simrun.Trace(**t) for p, t in results["traces"].items()},
            OUT / "feedback_regret.png",
        )
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results.get("policies"), indent=2))


if __name__ == "__main__":
    main()
