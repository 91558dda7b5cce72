"""analytics schema: read-only views for analysts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Postgres only. On SQLite (the embedded demo) this revision is a deliberate no-op: there is no
schema namespace to put views in and no analyst role to grant; `adgen report` reads the ORM
tables directly there. See docs/schema.md for every column.

The views are owned by the migrating role and are not `security_invoker`, so an analyst granted
SELECT on a view reads through it without any privilege on the raw tables.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Score metrics that get their own typed column; every metric (these included) is also in the
# `scores` JSONB object, so a new metric needs no migration to be visible.
TYPED_METRICS = ("alignment", "realism", "category_confidence", "sharpness", "near_duplicate")
# Headline numbers of the offline evaluation report (`adgen eval` writes them to
# model_versions.metrics -> 'eval'); null when absent or not a number.
TYPED_REPORT_METRICS = ("fid", "kid", "r_precision")


def _lines(template: str, indent: int = 4, metrics: Sequence[str] = TYPED_METRICS) -> str:
    """`template` formatted once per metric, one per line, comma-separated."""
    pad = " " * indent
    return ",\n".join(pad + template.format(m=m) for m in metrics)


CREATIVES = f"""
CREATE VIEW analytics.creatives AS
SELECT
    c.creative_id, c.event_id, c.campaign_id,
    cp.name AS campaign_name, cp.advertiser_id,
    c.ad_type, c.size, c.width, c.height,
    c."index" AS creative_index, c.variant, c.style, c.prompt, c.seed,
    e.payload -> 'audience' ->> 'segment' AS audience_segment,
    e.payload -> 'audience' ->> 'locale' AS locale,
    c.details -> 'plan' -> 'copy' ->> 'headline' AS headline,
    c.model_version_id, mv.name AS model_name,
    COALESCE(s.scores, '{{}}'::jsonb) AS scores,
{_lines("s.{m}")},
    c.servable, c.servable_reason,
    c.generate_ms, c.compose_ms, c.encode_ms, c.upload_ms,
    COALESCE(c.generate_ms, 0) + COALESCE(c.compose_ms, 0) + COALESCE(c.encode_ms, 0)
        + COALESCE(c.upload_ms, 0) AS total_ms,
    e.processing_ms AS event_processing_ms,
    c.object_key, c.content_type, c.bytes,
    c.created_at
FROM public.creatives c
JOIN public.campaigns cp ON cp.id = c.campaign_id
JOIN public.events e ON e.event_id = c.event_id
LEFT JOIN public.model_versions mv ON mv.id = c.model_version_id
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(sc.metric, sc.value) AS scores,
{_lines("max(sc.value) FILTER (WHERE sc.metric = '{m}') AS {m}", 8)}
    FROM public.scores sc
    WHERE sc.creative_id = c.creative_id
) s ON true
"""

SCORES = """
CREATE VIEW analytics.scores AS
SELECT
    sc.creative_id, c.campaign_id, c.event_id, c.ad_type, c.size, c.variant, c.style,
    c.model_version_id, c.servable, sc.metric, sc.value, sc.created_at
FROM public.scores sc
JOIN public.creatives c ON c.creative_id = sc.creative_id
"""

CAMPAIGN_SUMMARY = f"""
CREATE VIEW analytics.campaign_summary AS
WITH ev AS (
    SELECT
        campaign_id,
        count(*) AS events,
        count(*) FILTER (WHERE status = 'done') AS events_done,
        count(*) FILTER (WHERE status = 'failed') AS events_failed,
        count(*) FILTER (WHERE status = 'rejected') AS events_rejected,
        count(*) FILTER (WHERE status IN ('received', 'processing')) AS events_in_flight,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_ms) AS p50_processing_ms,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_ms) AS p95_processing_ms,
        min(received_at) AS first_event_at,
        max(received_at) AS last_event_at
    FROM public.events
    WHERE campaign_id IS NOT NULL
    GROUP BY campaign_id
), cr AS (
    SELECT
        campaign_id,
        count(*) AS creatives,
        count(*) FILTER (WHERE servable) AS servable_creatives,
        avg(CASE WHEN servable THEN 1.0 ELSE 0.0 END)::float8 AS servable_share,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) AS p50_creative_ms,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) AS p95_creative_ms,
{_lines("avg(ac.{m}) AS mean_{m}", 8)}
    FROM analytics.creatives ac
    GROUP BY campaign_id
), ms AS (
    SELECT campaign_id, jsonb_object_agg(metric, mean) AS mean_scores
    FROM (
        SELECT campaign_id, metric, avg(value) AS mean
        FROM analytics.scores GROUP BY campaign_id, metric
    ) per_metric
    GROUP BY campaign_id
)
SELECT
    cp.id AS campaign_id, cp.name AS campaign_name, cp.advertiser_id, cp.created_at,
    COALESCE(ev.events, 0) AS events,
    COALESCE(ev.events_done, 0) AS events_done,
    COALESCE(ev.events_failed, 0) AS events_failed,
    COALESCE(ev.events_rejected, 0) AS events_rejected,
    COALESCE(ev.events_in_flight, 0) AS events_in_flight,
    COALESCE(cr.creatives, 0) AS creatives,
    COALESCE(cr.servable_creatives, 0) AS servable_creatives,
    cr.servable_share,
    COALESCE(ms.mean_scores, '{{}}'::jsonb) AS mean_scores,
{_lines("cr.mean_{m}")},
    ev.p50_processing_ms, ev.p95_processing_ms,
    cr.p50_creative_ms, cr.p95_creative_ms,
    ev.first_event_at, ev.last_event_at
FROM public.campaigns cp
LEFT JOIN ev ON ev.campaign_id = cp.id
LEFT JOIN cr ON cr.campaign_id = cp.id
LEFT JOIN ms ON ms.campaign_id = cp.id
"""

MODEL_SUMMARY = f"""
CREATE VIEW analytics.model_summary AS
WITH cr AS (
    SELECT
        model_version_id,
        count(*) AS creatives,
        count(DISTINCT campaign_id) AS campaigns,
        avg(CASE WHEN servable THEN 1.0 ELSE 0.0 END)::float8 AS servable_share,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY generate_ms) AS p50_generate_ms,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY generate_ms) AS p95_generate_ms,
{_lines("avg(ac.{m}) AS mean_{m}", 8)},
        min(created_at) AS first_creative_at,
        max(created_at) AS last_creative_at
    FROM analytics.creatives ac
    WHERE model_version_id IS NOT NULL
    GROUP BY model_version_id
), ms AS (
    SELECT model_version_id, jsonb_object_agg(metric, mean) AS mean_scores
    FROM (
        SELECT model_version_id, metric, avg(value) AS mean
        FROM analytics.scores WHERE model_version_id IS NOT NULL
        GROUP BY model_version_id, metric
    ) per_metric
    GROUP BY model_version_id
)
SELECT
    mv.id AS model_version_id, mv.name AS model_name, mv.kind, mv.created_at,
    COALESCE(cr.creatives, 0) AS creatives,
    COALESCE(cr.campaigns, 0) AS campaigns,
    cr.servable_share,
    COALESCE(ms.mean_scores, '{{}}'::jsonb) AS mean_scores,
{_lines("cr.mean_{m}")},
    cr.p50_generate_ms, cr.p95_generate_ms,
    COALESCE(mv.metrics, '{{}}'::jsonb) AS report_metrics,
{
    _lines(
        "CASE WHEN jsonb_typeof(mv.metrics -> 'eval' -> '{m}') = 'number' "
        "THEN (mv.metrics -> 'eval' ->> '{m}')::float8 END AS report_{m}",
        metrics=TYPED_REPORT_METRICS,
    )
},
    CASE WHEN jsonb_typeof(mv.metrics -> 'samples') = 'number'
        THEN (mv.metrics ->> 'samples')::float8::bigint END AS report_samples,
    cr.first_creative_at, cr.last_creative_at
FROM public.model_versions mv
LEFT JOIN cr ON cr.model_version_id = mv.id
LEFT JOIN ms ON ms.model_version_id = mv.id
"""

DAILY = """
CREATE VIEW analytics.daily AS
SELECT
    (created_at AT TIME ZONE 'UTC')::date AS day,
    ad_type,
    count(*) AS creatives,
    count(DISTINCT event_id) AS events,
    count(DISTINCT campaign_id) AS campaigns,
    avg(CASE WHEN servable THEN 1.0 ELSE 0.0 END)::float8 AS servable_share,
    avg(alignment) AS mean_alignment,
    avg(realism) AS mean_realism,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) AS p50_creative_ms,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) AS p95_creative_ms
FROM analytics.creatives
GROUP BY 1, 2
"""

# Created in this order, dropped in reverse (later views read earlier ones).
VIEWS = (
    ("creatives", CREATIVES),
    ("scores", SCORES),
    ("campaign_summary", CAMPAIGN_SUMMARY),
    ("model_summary", MODEL_SUMMARY),
    ("daily", DAILY),
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _is_postgres():
        return  # SQLite: no-op by design (see the module docstring)
    op.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    # Nobody but the owner and explicitly granted roles may see into the schema.
    op.execute("REVOKE ALL ON SCHEMA analytics FROM PUBLIC")
    for _name, ddl in VIEWS:
        op.execute(ddl)
    op.execute(
        "COMMENT ON SCHEMA analytics IS "
        "'Read-only reporting views over AdGen tables; see docs/schema.md'"
    )


def downgrade() -> None:
    if not _is_postgres():
        return
    for name, _ddl in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS analytics.{name}")
    # Not CASCADE: if someone added their own objects here, refuse rather than destroy them.
    op.execute("DROP SCHEMA IF EXISTS analytics")
