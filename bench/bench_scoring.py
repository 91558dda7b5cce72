"""What scoring adds to a creative: (generate + compose + encode) vs score, per creative, on CPU.

    python -m bench.bench_scoring [--model DIR] [--evaluator DIR] [--rounds 5] [--count 2]

Runs the worker's own functions in-process on the sample events (all four ad types, two sizes),
after one warm-up round, and prints the scoring share. Ratios from one run on one machine; the
absolute times depend on load.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import torch

from shared.compose import compose_creative
from shared.config import get_settings
from shared.encoding import Encoding
from shared.eval.scorer import GateThresholds, load_scorer
from shared.generation import GeneratorRuntime
from shared.personalize import plan_event
from shared.samples import sample_events


def main() -> None:
    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=settings.resolved_model_dir)
    ap.add_argument("--evaluator", type=Path, default=settings.resolved_evaluator_dir)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=2, help="variants per event")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    runtime = GeneratorRuntime.load(args.model, device="cpu")
    scorer = load_scorer(args.evaluator, runtime, "cpu", GateThresholds.from_settings(settings))
    if scorer is None:
        raise SystemExit(f"no evaluator in {args.evaluator}")
    runtime.warmup()

    totals = {"generate": 0.0, "compose": 0.0, "encode": 0.0, "score": 0.0}
    creatives = 0
    for r in range(args.rounds + 1):  # round 0 warms caches and lazy initialisation
        events = sample_events(f"bench-score-{r}", count=args.count)
        for event in events:
            plan = plan_event(event)
            t0 = time.perf_counter()
            pics = runtime.generate([q.prompt for q in plan.images], [q.seed for q in plan.images])
            images = {q.key: im for q, im in zip(plan.images, pics, strict=True)}
            t1 = time.perf_counter()
            composed = [
                compose_creative(cp, [images[k] for k in cp.image_keys], event)
                for cp in plan.creatives
            ]
            t2 = time.perf_counter()
            for im in composed:
                Encoding().encode(im)
            t3 = time.perf_counter()
            scorer(event, plan, images, composed)
            t4 = time.perf_counter()
            if r == 0:
                continue
            creatives += len(plan.creatives)
            for k, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                totals[k] += dt

    per = {k: 1000 * v / creatives for k, v in totals.items()}
    work = per["generate"] + per["compose"] + per["encode"]
    print(
        f"model {args.model} ({runtime.version}{', untrained' if runtime.untrained else ''}), "
        f"evaluator {args.evaluator}"
    )
    print(
        f"{platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, {creatives} creatives over {args.rounds} rounds"
    )
    for k, v in per.items():
        print(f"  {k:<9} {v:8.2f} ms/creative")
    print(
        f"scoring / (generate+compose+encode) = {per['score'] / work:.3f} "
        f"({100 * per['score'] / (work + per['score']):.1f}% of the creative's time)"
    )


if __name__ == "__main__":
    main()
