"""review: decision audit, auto-approve rules, reviewer accounts, analytics.review_decisions

Revision ID: 0004
Revises: 0005 (written on 0002; see down_revision)
Create Date: 2026-11-30

Tables on every database (the embedded SQLite demo included). On PostgreSQL also:
- a trigger that makes `creative_decisions` append-only (UPDATE refused; DELETE refused unless it
  is the cascade from deleting the creative or its campaign);
- `analytics.review_decisions` and `analytics.review_rules` views. Analysts get SELECT through
  the default privileges `adgen db grant-analyst` sets on the schema (or by re-running it).
  `review_users` (password hashes) gets no view.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
# Both this and the feedback loop's 0005 were written on top of 0002; with both on one branch
# there must be one head, so here 0004 follows 0005. The lead re-chains revisions at merge.
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE FUNCTION public.creative_decisions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Depth 1: a statement on this table. Deeper: the FK cascade from creatives/campaigns.
    IF TG_OP = 'UPDATE' OR pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'creative_decisions is append-only (record an undo instead)';
    END IF;
    RETURN OLD;
END $$
"""
TRIGGER = """
CREATE TRIGGER creative_decisions_append_only
BEFORE UPDATE OR DELETE ON public.creative_decisions
FOR EACH ROW EXECUTE FUNCTION public.creative_decisions_append_only()
"""

REVIEW_DECISIONS = """
CREATE VIEW analytics.review_decisions AS
SELECT
    d.id AS decision_id, d.creative_id, c.campaign_id, c.event_id, c.ad_type, c.size,
    c.model_version_id, c.servable,
    d.decision, d.reason_code, d.reason_text, d.actor, d.at, d.undoes_id,
    EXISTS (SELECT 1 FROM public.creative_decisions u WHERE u.undoes_id = d.id) AS undone
FROM public.creative_decisions d
JOIN public.creatives c ON c.creative_id = d.creative_id
"""

REVIEW_RULES = """
CREATE VIEW analytics.review_rules AS
SELECT campaign_id, auto_approve, require_servable, min_alignment, min_realism,
       updated_by, updated_at
FROM public.review_rules
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "creative_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("creative_id", sa.String(length=36), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["creative_id"], ["creatives.creative_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["undoes_id"], ["creative_decisions.id"]),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject', 'undo')", name="ck_creative_decisions_decision"
        ),
        sa.CheckConstraint(
            "(decision = 'undo') = (undoes_id IS NOT NULL)",
            name="ck_creative_decisions_undo_target",
        ),
    )
    op.create_index("ix_creative_decisions_creative", "creative_decisions", ["creative_id", "id"])
    op.create_index(
        "ix_creative_decisions_undoes", "creative_decisions", ["undoes_id"], unique=True
    )

    op.create_table(
        "review_rules",
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("auto_approve", sa.Boolean(), nullable=False),
        sa.Column("require_servable", sa.Boolean(), nullable=False),
        sa.Column("min_alignment", sa.Float(), nullable=True),
        sa.Column("min_realism", sa.Float(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("campaign_id"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
    )

    op.create_table(
        "review_users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("username"),
        sa.CheckConstraint("role IN ('viewer', 'reviewer', 'admin')", name="ck_review_users_role"),
    )

    if not _is_postgres():
        return  # SQLite: tables only (no analytics schema there; see 0002)
    op.execute(APPEND_ONLY)
    op.execute(TRIGGER)
    op.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    op.execute(REVIEW_DECISIONS)
    op.execute(REVIEW_RULES)


def downgrade() -> None:
    if _is_postgres():
        op.execute("DROP VIEW IF EXISTS analytics.review_rules")
        op.execute("DROP VIEW IF EXISTS analytics.review_decisions")
        op.execute(
            "DROP TRIGGER IF EXISTS creative_decisions_append_only ON public.creative_decisions"
        )
        op.execute("DROP FUNCTION IF EXISTS public.creative_decisions_append_only()")
    op.drop_table("review_users")
    op.drop_table("review_rules")
    op.drop_index("ix_creative_decisions_undoes", table_name="creative_decisions")
    op.drop_index("ix_creative_decisions_creative", table_name="creative_decisions")
    op.drop_table("creative_decisions")
