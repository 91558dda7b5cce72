"""SQLAlchemy 2 typed models. The schema is created by Alembic migrations, never implicitly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")

# Event lifecycle. `rejected` = never valid; `failed` = valid but gave up after bounded attempts.
STATUS_RECEIVED = "received"
STATUS_PROCESSING = "processing"
STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_REJECTED = "rejected"
TERMINAL_STATUSES = (STATUS_DONE, STATUS_FAILED, STATUS_REJECTED)


class Base(DeclarativeBase):
    pass


def _now() -> Any:
    return func.now()


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    advertiser_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Event(Base):
    __tablename__ = "events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    campaign_id: Mapped[str | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True
    )
    type: Mapped[str | None] = mapped_column(String(32))
    schema_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_RECEIVED)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    payload_sha256: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    creatives_requested: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processing_ms: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_events_status", "status"),
        Index("ix_events_campaign_received", "campaign_id", "received_at"),
        Index("ix_events_type", "type"),
    )


class ModelVersion(Base):
    __tablename__ = "model_versions"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # "sha256:<12 hex>"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="generator")
    path: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Creative(Base):
    __tablename__ = "creatives"
    creative_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    ad_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str] = mapped_column(String(120))
    style: Mapped[str] = mapped_column(String(32))
    prompt: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(64), default="image/png")
    bytes: Mapped[int] = mapped_column(Integer)
    model_version_id: Mapped[str | None] = mapped_column(ForeignKey("model_versions.id"))
    generate_ms: Mapped[float | None] = mapped_column(Float)
    compose_ms: Mapped[float | None] = mapped_column(Float)
    encode_ms: Mapped[float | None] = mapped_column(Float)
    upload_ms: Mapped[float | None] = mapped_column(Float)
    servable: Mapped[bool] = mapped_column(Boolean, default=True)
    servable_reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # copy, products, layout
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())

    __table_args__ = (
        Index("ix_creatives_event_index", "event_id", "index", unique=True),
        Index("ix_creatives_campaign_created", "campaign_id", "created_at"),
        Index("ix_creatives_model", "model_version_id"),
        Index("ix_creatives_type_size", "ad_type", "size"),
    )


class Score(Base):
    __tablename__ = "scores"
    creative_id: Mapped[str] = mapped_column(
        ForeignKey("creatives.creative_id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())

    __table_args__ = (Index("ix_scores_metric_value", "metric", "value"),)


class RejectedEvent(Base):
    """Every refused message, with its reason and a size-capped copy of the payload."""

    __tablename__ = "rejected_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    payload_bytes: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
