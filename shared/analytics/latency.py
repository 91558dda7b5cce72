"""Percentiles of the time from received to done, per UTC day. Pure: numbers in, numbers out."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DayLatency:
    day: date
    events: int
    p50_ms: float
    p95_ms: float


def percentile_cont(values: Sequence[float], q: float) -> float:
    """PostgreSQL's `percentile_cont(q) WITHIN GROUP (ORDER BY value)`: linear interpolation
    between the two nearest ranks, so the report and an analyst's SQL give the same number."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be within [0, 1]")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def daily_percentiles(rows: Iterable[tuple[date, float]]) -> list[DayLatency]:
    """(day, milliseconds) pairs to one p50/p95 row per day, newest first."""
    by_day: dict[date, list[float]] = defaultdict(list)
    for day, ms in rows:
        by_day[day].append(ms)
    return [
        DayLatency(
            day=d, events=len(v), p50_ms=percentile_cont(v, 0.5), p95_ms=percentile_cont(v, 0.95)
        )
        for d, v in sorted(by_day.items(), reverse=True)
    ]
