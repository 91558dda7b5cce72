"""Reason classes: why an event failed or was rejected, normalised for GROUP BY.

Reasons carry variable parts (sizes, field paths, exception messages), so grouping by the raw
text does not group. Each class is the first LIKE pattern the reason matches. Migration 0003 holds
a frozen copy of these rules in the `analytics.events` / `analytics.event_problems` views; a unit
test keeps them equal, so changing a rule here means a new migration that redefines the views.
"""

from __future__ import annotations

import re
from functools import lru_cache

# (LIKE pattern, class), first match wins. Rejections come from shared.intake (task shape,
# signature, then shared.events.parse_event), the id-conflict check, shared.handoff and the
# broker consumer (workers/consumer.py); failures from shared.pipeline, the ledger and the task
# wrappers. A time limit outranks the retries it exhausted: the cause is what groups.
REASON_CLASSES: tuple[tuple[str, str], ...] = (
    ("payload of % bytes exceeds %", "too_large"),
    ("payload is not UTF-8%", "not_utf8"),
    ("payload is not JSON%", "not_json"),
    ("event must be a JSON object%", "not_object"),
    ("event must be JSON text or a JSON object%", "not_object"),
    ("unsupported schema_version%", "schema_version"),
    ("invalid event:%", "invalid_event"),
    ("duplicate event_id%", "duplicate_id"),
    ("event is not signed%", "signature"),
    ("event signature %", "signature"),
    ("signed events must %", "signature"),
    ("task message %", "malformed_task"),
    ("an argument is given both %", "malformed_task"),
    ("unknown task argument%", "malformed_task"),
    ("undecodable message%", "undecodable"),
    ("not a task message%", "not_a_task"),
    ("unknown task:%", "not_a_task"),
    ("render hand-off refused:%", "handoff_refused"),
    ("gave up after % attempts%", "worker_lost"),
    ("%TimeLimitExceeded%", "time_limit"),
    ("%DeadlineExceeded%", "time_limit"),
    ("%event deadline of %", "time_limit"),
    ("%gave up after%retries%", "retries_exhausted"),
    ("transient:%", "transient"),
    ("render:%", "render_error"),
)
FAILED_OTHER = "error"  # a failed event whose reason matches no pattern (an exception)
REJECTED_OTHER = "other"


@lru_cache(maxsize=64)
def _like(pattern: str) -> re.Pattern[str]:
    # SQL LIKE: `%` any run, `_` any one character, case-sensitive, whole string.
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def reason_class(status: str, reason: str | None) -> str | None:
    """The class SQL computes for this status and reason (None without a reason)."""
    if reason is None:
        return None
    for pattern, cls in REASON_CLASSES:
        if _like(pattern).fullmatch(reason):
            return cls
    return FAILED_OTHER if status == "failed" else REJECTED_OTHER
