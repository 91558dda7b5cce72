"""CPU and statements of a first-delivery claim on the real Postgres.

    python -m bench.claim_cpu [--runs 5] [--per-run 150]

Runs `SqlLedger.claim` for fresh 1-creative events on a fresh database and reports the CPU of
this thread per claim (`time.thread_time()`) for each run, and the statements per claim
(a `before_cursor_execute` listener; the pool's pre-ping is not a cursor statement). To compare
with another tree, run it with that tree first on PYTHONPATH (e.g. a `git archive main`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sqlalchemy import event

from bench.harness import single_creative_events
from shared.db.engine import dispose_engines, get_engine
from shared.db.ledger import SqlLedger
from shared.db.migrate import upgrade
from tests.support.services import postgres_database


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--per-run", type=int, default=150)
    args = ap.parse_args()
    with postgres_database() as pg:
        upgrade(pg)
        ledger = SqlLedger(pg, worker="bench")
        statements: list[int] = []

        def count(*_: Any) -> None:
            statements.append(1)

        events = single_creative_events("claim", 50 + args.runs * args.per_run)
        for ev in events[:50]:  # warm: pool, statement caches, the campaigns
            ledger.claim(ev, max_attempts=3)
        event.listen(get_engine(pg), "before_cursor_execute", count)
        runs = []
        for r in range(args.runs):
            chunk = events[50 + r * args.per_run : 50 + (r + 1) * args.per_run]
            t0 = time.thread_time()
            for ev in chunk:
                ledger.claim(ev, max_attempts=3)
            runs.append((time.thread_time() - t0) * 1000 / len(chunk))
        dispose_engines()
    print(
        f"claim CPU ms per first delivery, {args.runs} runs of {args.per_run}: "
        + " ".join(f"{x:.2f}" for x in runs)
        + f"; median {statistics.median(runs):.2f}; statements per claim "
        f"{len(statements) / (args.runs * args.per_run):.1f}"
    )


if __name__ == "__main__":
    main()
