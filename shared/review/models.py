"""ORM models of the review tables (created by migration 0004, never implicitly).

`creative_decisions` is an append-only audit: nothing updates or deletes a row; an undo is a new
row that names the decision it cancels (`undoes_id`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base, _now

APPROVE, REJECT, UNDO = "approve", "reject", "undo"
DECISIONS = (APPROVE, REJECT, UNDO)
ROLES = ("viewer", "reviewer", "admin")


class CreativeDecision(Base):
    __tablename__ = "creative_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE")
    )
    decision: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    # For an undo: the approve/reject row it cancels. Null otherwise.
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("creative_decisions.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())

    __table_args__ = (
        Index("ix_creative_decisions_creative", "creative_id", "id"),
        Index("ix_creative_decisions_undoes", "undoes_id", unique=True),
    )


class ReviewRule(Base):
    """A campaign's auto-approve rule: with `auto_approve` on, a creative nobody has decided on
    counts as approved when it passes every check that is set (see approval.rule_approves)."""

    __tablename__ = "review_rules"
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    require_servable: Mapped[bool] = mapped_column(Boolean, default=True)
    min_alignment: Mapped[float | None] = mapped_column(Float)
    min_realism: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class ReviewUser(Base):
    __tablename__ = "review_users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, PHC string
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
