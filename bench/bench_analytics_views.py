"""How long the analyst questions take on a synthetic Postgres database (needs the local server).

    python -m bench.bench_analytics_views [--events 200000] [--rejected 20000] [--revision head]

Builds a fresh database at `--revision` (head, or 0002 for the views before the analyst
questions), fills it with done and failed events and refused messages with SQL
`generate_series`, and prints the best of three timings per query. Absolute times depend on load.
"""

from __future__ import annotations

import argparse
import time

import psycopg

from shared.db.migrate import upgrade
from tests.support.services import postgres_database

QUESTIONS = {
    "problems by reason": "SELECT status, reason_class, count(*) FROM analytics.event_problems "
    "GROUP BY 1, 2",
    "p50/p95 per day": "SELECT finished_day, "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY received_to_finished_ms), "
    "percentile_cont(0.95) WITHIN GROUP (ORDER BY received_to_finished_ms) "
    "FROM analytics.events WHERE status = 'done' GROUP BY 1",
}
SUMMARY = {"campaign_summary": "SELECT * FROM analytics.campaign_summary"}


def fill(conn: psycopg.Connection, events: int, rejected: int) -> None:
    conn.execute(
        "INSERT INTO campaigns SELECT 'c' || i, 'a', 'n' || i, now() FROM generate_series(1, 200) i"
    )
    conn.execute(
        "INSERT INTO events (event_id, campaign_id, status, attempts, creatives_requested, "
        "received_at, finished_at, processing_ms) "
        "SELECT 'e' || i, 'c' || (i %% 200 + 1), 'done', 1, 2, now() - i * interval '3 s', "
        "now() - i * interval '3 s' + random() * interval '5 s', 100 "
        "FROM generate_series(1, %s) i",
        (events,),
    )
    conn.execute(
        "INSERT INTO events (event_id, campaign_id, status, attempts, creatives_requested, "
        "received_at, finished_at, last_error) "
        "SELECT 'f' || i, 'c' || (i %% 200 + 1), 'failed', 3, 2, now(), now(), "
        "CASE i %% 3 WHEN 0 THEN 'gave up after 3 attempts; last error: lost' "
        "WHEN 1 THEN 'ValueError: x' ELSE 'render: OSError: disk' END "
        "FROM generate_series(1, %s) i",
        (max(1, events // 40),),
    )
    # Half the refused messages carry a readable event id (and leave a `rejected` event row).
    conn.execute(
        "INSERT INTO rejected_events (event_id, reason, payload, payload_bytes, received_at) "
        "SELECT CASE WHEN i %% 2 = 0 THEN 'r' || i END, 'invalid event: products: too short', "
        '\'{"event_id": "r\' || i || \'", "campaign": {"id": "c\' || (i %% 200 + 1) '
        "|| '\"}, \"x\": \"' || repeat('y', 500) || '\"}', 600, now() "
        "FROM generate_series(1, %s) i",
        (rejected,),
    )
    conn.execute(
        "INSERT INTO events (event_id, status, attempts, creatives_requested, received_at, "
        "finished_at, last_error) SELECT 'r' || i, 'rejected', 1, 0, now(), now(), "
        "'invalid event: products: too short' FROM generate_series(2, %s, 2) i",
        (rejected,),
    )
    conn.execute("ANALYZE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rejected", type=int, default=20_000)
    ap.add_argument("--revision", default="head")
    args = ap.parse_args()
    with postgres_database() as url:
        upgrade(url, args.revision)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn) as conn:
            fill(conn, args.events, args.rejected)
        queries = SUMMARY if args.revision == "0002" else {**QUESTIONS, **SUMMARY}
        with psycopg.connect(dsn) as conn:
            for name, query in queries.items():
                rows = conn.execute(query).fetchall()  # type: ignore[arg-type]
                best = min(_timed(conn, query) for _ in range(3))
                print(f"{name} ({args.revision}): {len(rows)} rows, best of 3 {best * 1000:.0f} ms")


def _timed(conn: psycopg.Connection, query: str) -> float:
    t0 = time.perf_counter()
    conn.execute(query).fetchall()  # type: ignore[arg-type]
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
