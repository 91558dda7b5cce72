"""analytics views for the analyst questions: event timings, problems by reason

Revision ID: 0003
Revises: 0004 (numbered before 0004/0005 but written after them; the chain is
0001 -> 0002 -> 0005 -> 0004 -> 0003, one head)
Create Date: 2026-11-30

Postgres only, like 0002 (on SQLite this revision is a deliberate no-op; `adgen report` reads
stand-ins with the same columns there, see shared/analytics/views.py).

- `analytics.events`: one row per event id with its received/started/finished times, the time
  from received to finished, and for failed or rejected events the reason and a reason class.
  A rejected event's row has no campaign id (its payload was never valid); the view attributes
  it to the campaign its latest refused payload names, when that is a well-formed id.
- `analytics.event_problems`: every failed event and every refused message (one row per row
  of `rejected_events`, with or without a readable event id), with reason and reason class.
- `analytics.campaign_summary`: `events_rejected` was always 0 because rejected events carry no
  campaign id and the view skipped rows without one; it now counts from `analytics.events`, and
  a new last column `rejections` counts every refused message naming the campaign.
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0003"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (LIKE pattern on the reason, class), first match wins; unmatched failed events are 'error',
# unmatched rejections 'other'. A frozen copy of shared.analytics.reasons.REASON_CLASSES (a unit
# test keeps them equal): changing the classes means a new migration that redefines the views.
REASON_CLASSES = (
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


def payload_campaign_sql(payload: str) -> str:
    r"""The campaign id a refused payload names (text, possibly cut short, so not parsed as
    JSON): the `id` inside the `campaign` object, if made of the characters an id may contain.

    Two steps, no length bound: PostgreSQL's regex engine is slow with a capture group over the
    whole payload, and much slower with a bounded repetition (`{0,127}`) inside it; reading the
    campaign object without capturing, then the id out of that short text, took 0.7 s instead
    of 3.1 s for 20,000 refused payloads here. `\s`, not `[[:space:]]`: SQLAlchemy's text()
    would read `:space` as a bind parameter."""
    obj = rf"""substring({payload} FROM '"campaign"\s*:\s*\{{[^{{}}]*')"""
    return rf"""substring({obj} FROM '"id"\s*:\s*"([A-Za-z0-9][A-Za-z0-9_.:-]*)"')"""


# The campaign a rejected event (alias `e`, no campaign id of its own) is attributed to: the one
# its latest refused payload names. A correlated scalar subquery, used only under
# `e.status = 'rejected' AND e.campaign_id IS NULL`, so it costs one index probe per rejected
# event and nothing per valid one.
REJECTED_EVENT_CAMPAIGN = f"""(
        SELECT {payload_campaign_sql("r.payload")}
        FROM public.rejected_events r
        WHERE r.event_id = e.event_id
        ORDER BY r.id DESC
        LIMIT 1
    )"""


def reason_class_sql(status: str, reason: str) -> str:
    whens = "\n".join(
        f"        WHEN {reason} LIKE '{pattern}' THEN '{cls}'" for pattern, cls in REASON_CLASSES
    )
    return (
        f"CASE\n        WHEN {reason} IS NULL THEN NULL\n{whens}\n"
        f"        WHEN {status} = 'failed' THEN 'error'\n        ELSE 'other'\n    END"
    )


EVENTS = f"""
CREATE VIEW analytics.events AS
SELECT
    e.event_id,
    COALESCE(e.campaign_id,
             CASE WHEN e.status = 'rejected' THEN {REJECTED_EVENT_CAMPAIGN} END) AS campaign_id,
    e.type AS ad_type,
    e.status,
    e.attempts,
    CASE WHEN e.status IN ('failed', 'rejected') THEN e.last_error END AS reason,
    CASE WHEN e.status IN ('failed', 'rejected')
        THEN {reason_class_sql("e.status", "e.last_error")} END AS reason_class,
    e.creatives_requested,
    e.occurred_at, e.received_at, e.started_at, e.finished_at,
    (e.received_at AT TIME ZONE 'UTC')::date AS received_day,
    (e.finished_at AT TIME ZONE 'UTC')::date AS finished_day,
    CASE WHEN e.status IN ('done', 'failed', 'rejected')
        THEN (EXTRACT(EPOCH FROM e.finished_at - e.received_at) * 1000)::float8
    END AS received_to_finished_ms,
    e.processing_ms,
    e.worker
FROM public.events e
"""

EVENT_PROBLEMS = f"""
CREATE VIEW analytics.event_problems AS
SELECT
    'event:' || e.event_id AS problem_id,
    e.event_id, e.campaign_id, e.ad_type,
    'failed'::varchar AS status,
    e.reason, e.reason_class, e.attempts,
    e.received_at, e.finished_at,
    NULL::integer AS payload_bytes,
    e.worker
FROM analytics.events e
WHERE e.status = 'failed'
UNION ALL
SELECT
    'rejection:' || r.id AS problem_id,
    r.event_id,
    COALESCE(ev.campaign_id, {payload_campaign_sql("r.payload")}) AS campaign_id,
    ev.ad_type,
    'rejected'::varchar AS status,
    r.reason,
    {reason_class_sql("'rejected'", "r.reason")} AS reason_class,
    NULL::integer AS attempts,
    r.received_at,
    r.received_at AS finished_at,
    r.payload_bytes,
    r.worker
FROM public.rejected_events r
-- LATERAL + LIMIT: one index probe per refused message, never a scan of every event.
LEFT JOIN LATERAL (
    SELECT e.campaign_id, e.type AS ad_type
    FROM public.events e
    WHERE e.event_id = r.event_id
    LIMIT 1
) ev ON true
"""

# 0002's campaign_summary, counting rejected events for the campaign their refused payload named
# (as analytics.events attributes them), with a `rejections` column appended. Valid events are
# still grouped by their own indexed campaign id: grouping analytics.events by its computed
# campaign id made this view about 20x slower over 200k events.
CAMPAIGN_EVENTS_OLD = """    FROM public.events
    WHERE campaign_id IS NOT NULL
    GROUP BY campaign_id"""
CAMPAIGN_EVENTS_NEW = f"""    FROM (
        SELECT campaign_id, status, processing_ms, received_at
        FROM public.events
        WHERE campaign_id IS NOT NULL
        UNION ALL
        SELECT {REJECTED_EVENT_CAMPAIGN}, status, processing_ms, received_at
        FROM public.events e
        WHERE e.campaign_id IS NULL AND e.status = 'rejected'
    ) attributed
    WHERE campaign_id IS NOT NULL
    GROUP BY campaign_id
), rj AS (
    SELECT campaign_id, count(*) AS rejections
    FROM analytics.event_problems
    WHERE status = 'rejected' AND campaign_id IS NOT NULL
    GROUP BY campaign_id"""
SUMMARY_TAIL_OLD = """    ev.first_event_at, ev.last_event_at
FROM public.campaigns cp"""
SUMMARY_TAIL_NEW = """    ev.first_event_at, ev.last_event_at,
    COALESCE(rj.rejections, 0) AS rejections
FROM public.campaigns cp
LEFT JOIN rj ON rj.campaign_id = cp.id"""


def _migration_0002():  # type: ignore[no-untyped-def]
    """0002's module, for its campaign_summary text (migration files are not a package)."""
    path = Path(__file__).with_name("0002_analytics.py")
    spec = importlib.util.spec_from_file_location("adgen_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def campaign_summary_sql() -> str:
    old = _migration_0002().CAMPAIGN_SUMMARY
    assert CAMPAIGN_EVENTS_OLD in old and SUMMARY_TAIL_OLD in old
    return (
        old.replace(CAMPAIGN_EVENTS_OLD, CAMPAIGN_EVENTS_NEW)
        .replace(SUMMARY_TAIL_OLD, SUMMARY_TAIL_NEW)
        .replace("CREATE VIEW", "CREATE OR REPLACE VIEW")
    )


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _is_postgres():
        return  # SQLite: no-op by design (see the module docstring)
    op.execute(EVENTS)
    op.execute(EVENT_PROBLEMS)
    # Same columns in the same order plus one at the end, so CREATE OR REPLACE keeps the
    # analysts' grants on the view.
    op.execute(campaign_summary_sql())


def downgrade() -> None:
    if not _is_postgres():
        return
    # Dropping a column needs DROP + CREATE; the grants on the view go with it (rerun
    # `adgen db grant-analyst`, as after any downgrade).
    op.execute("DROP VIEW analytics.campaign_summary")
    op.execute(_migration_0002().CAMPAIGN_SUMMARY)
    op.execute("DROP VIEW IF EXISTS analytics.event_problems")
    op.execute("DROP VIEW IF EXISTS analytics.events")
