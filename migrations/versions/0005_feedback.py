"""feedback loop: raw feedback, rejections, daily roll-up, serving plan, retirements

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-30

Tables on every database (the embedded SQLite demo included); the `analytics.*` views on
PostgreSQL only, like 0002. The views' credible intervals are the normal approximation to the
Beta(1 + clicks, 1 + impressions - clicks) posterior (SQL has no Beta quantile function); the
serving plan itself carries exact Beta quantiles. See docs/feedback.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Z90 = 1.6448536269514722  # two-sided 90%


def _now() -> sa.sql.elements.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def _ts(name: str, nullable: bool = False, default: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=_now() if default else None,
    )


def _creative_fk(primary: bool = False) -> sa.Column:
    return sa.Column(
        "creative_id",
        sa.String(36),
        sa.ForeignKey("creatives.creative_id", ondelete="CASCADE"),
        primary_key=primary,
        nullable=False,
    )


def _tables() -> None:
    op.create_table(
        "feedback_events",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("impression_id", sa.String(128), nullable=False),
        _creative_fk(),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        _ts("occurred_at"),
        _ts("impression_at"),
        sa.Column("selection_probability", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        _ts("received_at", default=True),
        sa.Column("aggregated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("kind", "impression_id", name="uq_feedback_kind_impression"),
    )
    op.create_index(
        "ix_feedback_events_pending",
        "feedback_events",
        ["received_at"],
        postgresql_where=sa.text("NOT aggregated"),
        sqlite_where=sa.text("aggregated = 0"),
    )
    op.create_index("ix_feedback_events_creative", "feedback_events", ["creative_id"])

    op.create_table(
        "feedback_rejected",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feedback_id", sa.String(128), nullable=True),
        sa.Column("reason_class", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("received_at", default=True),
    )
    op.create_index("ix_feedback_rejected_feedback_id", "feedback_rejected", ["feedback_id"])
    op.create_index("ix_feedback_rejected_reason_class", "feedback_rejected", ["reason_class"])

    op.create_table(
        "feedback_daily",
        _creative_fk(primary=True),
        sa.Column("segment", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("conversion_value", sa.Float(), nullable=False),
        _ts("updated_at", default=True),
    )
    op.create_index(
        "ix_feedback_daily_context", "feedback_daily", ["campaign_id", "size", "segment"]
    )

    op.create_table(
        "serving_plan",
        sa.Column("campaign_id", sa.String(128), primary_key=True),
        sa.Column("size", sa.String(16), primary_key=True),
        sa.Column("segment", sa.String(64), primary_key=True),
        _creative_fk(primary=True),
        *(
            sa.Column(c, sa.Float(), nullable=False)
            for c in ("probability", "p_best", "posterior_mean", "ci_low", "ci_high")
        ),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("prior_mean", sa.Float(), nullable=False),
        sa.Column("prior_strength", sa.Float(), nullable=False),
        sa.Column("policy", sa.String(32), nullable=False),
        _ts("updated_at"),
    )

    op.create_table(
        "creative_retirements",
        _creative_fk(primary=True),
        sa.Column("campaign_id", sa.String(128), nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        _ts("retired_at"),
        sa.Column("p_best", sa.Float(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("posterior_mean", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("winners", JSON, nullable=True),
        sa.Column("regeneration_event_id", sa.String(128), nullable=True),
        sa.Column("regeneration_event", JSON, nullable=True),
        _ts("published_at", nullable=True),
    )
    op.create_index("ix_creative_retirements_campaign_id", "creative_retirements", ["campaign_id"])


def _ctr(imps: str = "impressions", clicks: str = "clicks") -> str:
    """CTR, posterior mean and 90% interval columns for a row with these counts."""
    mean = f"(({clicks}) + 1.0) / (({imps}) + 2.0)"
    sd = f"sqrt({mean} * (1 - {mean}) / (({imps}) + 3.0))"
    return (
        f"CASE WHEN ({imps}) > 0 THEN ({clicks})::float8 / ({imps}) END AS ctr,\n"
        f"    {mean} AS ctr_mean,\n"
        f"    greatest(0.0, {mean} - {Z90} * {sd}) AS ctr_low,\n"
        f"    least(1.0, {mean} + {Z90} * {sd}) AS ctr_high"
    )


TOTALS = (
    "sum(d.impressions) AS impressions, sum(d.clicks) AS clicks, "
    "sum(d.conversions) AS conversions, sum(d.conversion_value) AS conversion_value"
)

CTR_DAILY = f"""
CREATE VIEW analytics.ctr_daily AS
SELECT d.day, d.campaign_id, d.size, d.segment, d.creative_id,
    d.impressions, d.clicks, d.conversions, d.conversion_value,
    {_ctr("d.impressions", "d.clicks")}, d.updated_at
FROM public.feedback_daily d
"""

CTR_CREATIVES = f"""
CREATE VIEW analytics.ctr_creatives AS
WITH t AS (
    SELECT d.creative_id, {TOTALS}
    FROM public.feedback_daily d GROUP BY d.creative_id
)
SELECT c.creative_id, c.campaign_id, c.size, c.style, c.variant,
    c.details -> 'plan' ->> 'tone' AS tone, c.details -> 'plan' ->> 'accent' AS accent,
    c.details -> 'plan' ->> 'template' AS template, c.model_version_id, c.servable,
    r.retired_at IS NOT NULL AS retired,
    t.impressions, t.clicks, t.conversions, t.conversion_value,
    {_ctr("t.impressions", "t.clicks")},
    CASE WHEN t.clicks > 0 THEN t.conversions::float8 / t.clicks END AS cvr
FROM t
JOIN public.creatives c ON c.creative_id = t.creative_id
LEFT JOIN public.creative_retirements r ON r.creative_id = c.creative_id
"""


def _ctr_by(name: str, key_sql: str, key: str) -> str:
    return f"""
CREATE VIEW analytics.ctr_by_{name} AS
WITH t AS (
    SELECT {key_sql} AS {key}, count(DISTINCT d.creative_id) AS creatives, {TOTALS}
    FROM public.feedback_daily d
    JOIN public.creatives c ON c.creative_id = d.creative_id
    GROUP BY 1
)
SELECT t.*, {_ctr("t.impressions", "t.clicks")}
FROM t
"""


SERVING_PLAN = """
CREATE VIEW analytics.serving_plan AS
SELECT p.campaign_id, p.size, p.segment, p.creative_id, c.style, c.variant,
    p.probability, p.p_best, p.posterior_mean, p.ci_low, p.ci_high, p.impressions, p.clicks,
    p.prior_mean, p.prior_strength, p.policy, p.updated_at
FROM public.serving_plan p
JOIN public.creatives c ON c.creative_id = p.creative_id
"""

RETIREMENTS = """
CREATE VIEW analytics.retirements AS
SELECT r.creative_id, r.campaign_id, r.size, c.style, c.variant, r.retired_at, r.p_best,
    r.impressions, r.clicks, r.posterior_mean, r.reason, r.winners,
    r.regeneration_event_id, r.published_at
FROM public.creative_retirements r
JOIN public.creatives c ON c.creative_id = r.creative_id
"""

FEEDBACK_REJECTIONS = """
CREATE VIEW analytics.feedback_rejections AS
SELECT (received_at AT TIME ZONE 'UTC')::date AS day, reason_class, count(*) AS rejected,
    min(reason) AS example_reason
FROM public.feedback_rejected
GROUP BY 1, 2
"""

VIEWS = (
    ("ctr_daily", CTR_DAILY),
    ("ctr_creatives", CTR_CREATIVES),
    ("ctr_by_style", _ctr_by("style", "c.style", "style")),
    ("ctr_by_segment", _ctr_by("segment", "d.segment", "segment")),
    ("ctr_by_model", _ctr_by("model", "c.model_version_id", "model_version_id")),
    ("serving_plan", SERVING_PLAN),
    ("retirements", RETIREMENTS),
    ("feedback_rejections", FEEDBACK_REJECTIONS),
)

TABLES = (
    "creative_retirements",
    "serving_plan",
    "feedback_daily",
    "feedback_rejected",
    "feedback_events",
)


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: tables only (no schemas, no analyst role)
    op.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    for _name, ddl in VIEWS:
        op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _ddl in reversed(VIEWS):
            op.execute(f"DROP VIEW IF EXISTS analytics.{name}")
    for table in TABLES:
        op.drop_table(table)
