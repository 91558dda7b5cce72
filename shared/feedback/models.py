"""Tables of the feedback loop (migration 0005). Columns are described in docs/feedback.md."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base, JSONType


def _now() -> Any:
    return func.now()


class FeedbackEventRow(Base):
    """Raw feedback, one row per impression, click or conversion; idempotent by id and by
    (kind, impression_id). `aggregated` marks rows already rolled up into `feedback_daily`."""

    __tablename__ = "feedback_events"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    impression_id: Mapped[str] = mapped_column(String(128))
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE")
    )
    campaign_id: Mapped[str] = mapped_column(String(128))
    size: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    impression_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    selection_probability: Mapped[float] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    aggregated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    __table_args__ = (
        UniqueConstraint("kind", "impression_id", name="uq_feedback_kind_impression"),
        Index(
            "ix_feedback_events_pending",
            "received_at",
            postgresql_where=text("NOT aggregated"),
            sqlite_where=text("aggregated = 0"),
        ),
        Index("ix_feedback_events_creative", "creative_id"),
    )


class FeedbackRejected(Base):
    __tablename__ = "feedback_rejected"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feedback_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reason_class: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class FeedbackDaily(Base):
    """Roll-up per creative × segment × UTC day of the impression (late clicks and conversions
    land on their impression's day)."""

    __tablename__ = "feedback_daily"
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(128))
    size: Mapped[str] = mapped_column(String(16))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[int] = mapped_column(BigInteger, default=0)
    conversion_value: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())

    __table_args__ = (Index("ix_feedback_daily_context", "campaign_id", "size", "segment"),)


class ServingPlanRow(Base):
    """What the ad server draws from: one row per context (campaign × size × segment) and
    servable creative."""

    __tablename__ = "serving_plan"
    campaign_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    size: Mapped[str] = mapped_column(String(16), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE"), primary_key=True
    )
    probability: Mapped[float] = mapped_column(Float)
    p_best: Mapped[float] = mapped_column(Float)
    posterior_mean: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    impressions: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    prior_mean: Mapped[float] = mapped_column(Float)
    prior_strength: Mapped[float] = mapped_column(Float)
    policy: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CreativeRetirement(Base):
    """A creative taken out of serving, the evidence, and the regeneration event it led to
    (published after the retirement commits; `published_at` is null until the broker has it)."""

    __tablename__ = "creative_retirements"
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[str] = mapped_column(String(128), index=True)
    size: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    p_best: Mapped[float] = mapped_column(Float)
    impressions: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    posterior_mean: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    winners: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    regeneration_event_id: Mapped[str | None] = mapped_column(String(128))
    regeneration_event: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
