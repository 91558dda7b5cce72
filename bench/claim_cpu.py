"""CPU and statements of first-delivery claims on the real Postgres, alone and in groups.

    python -m bench.claim_cpu [--runs 5] [--per-run 160] [--groups 1 8 16]

Claims fresh 1-creative events with `SqlLedger.claim_many` in groups of each size (group 1 is
`SqlLedger.claim` without a batcher: one transaction per delivery; a worker groups the claims
of events that arrive together, at most its thread count at a time) on a fresh database, and
reports the CPU of this thread per claim (`time.thread_time()`) for each run, and the
statements per claim (a `before_cursor_execute` listener; the pool's pre-ping is not a cursor
statement). The group sizes alternate within each run, so load on the box hits them alike. To
compare with another tree, run it with that tree first on PYTHONPATH (e.g. a `git archive main`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from sqlalchemy import event

from bench.harness import single_creative_events
from shared.db.engine import dispose_engines, get_engine
from shared.db.ledger import ClaimRequest, SqlLedger
from shared.db.migrate import upgrade
from shared.events import CampaignEvent
from tests.support.services import postgres_database


def claim_all(ledger: SqlLedger, events: list[CampaignEvent], group: int) -> None:
    if group == 1:
        for ev in events:
            ledger.claim(ev, max_attempts=3)
        return
    for i in range(0, len(events), group):
        results = ledger.claim_many([ClaimRequest(ev, 3) for ev in events[i : i + group]])
        assert not any(isinstance(r, BaseException) for r in results), results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--per-run", type=int, default=160)
    ap.add_argument("--groups", type=int, nargs="+", default=[1, 8, 16])
    args = ap.parse_args()
    with postgres_database() as pg:
        upgrade(pg)
        ledger = SqlLedger(pg, worker="bench")
        statements: dict[int, int] = {g: 0 for g in args.groups}
        current = [args.groups[0]]

        def count(*_: Any) -> None:
            statements[current[0]] += 1

        n = args.runs * args.per_run * len(args.groups)
        events = single_creative_events("claim", 50 + n)
        claim_all(ledger, events[:50], 1)  # warm: pool, statement caches, the campaigns
        event.listen(get_engine(pg), "before_cursor_execute", count)
        runs: dict[int, list[float]] = {g: [] for g in args.groups}
        at = 50
        for _ in range(args.runs):
            for g in args.groups:
                chunk = events[at : at + args.per_run]
                at += args.per_run
                current[0] = g
                t0 = time.thread_time()
                claim_all(ledger, chunk, g)
                runs[g].append((time.thread_time() - t0) * 1000 / len(chunk))
        dispose_engines()
    for g, ms in runs.items():
        print(
            f"claim CPU ms per first delivery, group {g:3d}, {args.runs} runs of "
            f"{args.per_run}: "
            + " ".join(f"{x:.2f}" for x in ms)
            + f"; median {statistics.median(ms):.2f}; statements per claim "
            f"{statements[g] / (args.runs * args.per_run):.2f}"
        )


if __name__ == "__main__":
    main()
