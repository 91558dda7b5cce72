"""The review queue: creatives filtered and paged newest first, with what a reviewer needs on a
card (copy, scores, the quality gate's reason, the review state). Reads only; no rendering.

"Awaiting review" means no current human decision. A creative the campaign's auto-approve rule
approves still waits there (badged `auto`) until a person confirms or overrides it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, and_, exists, func, select
from sqlalchemy.orm import Session

from shared.db.models import Campaign, Creative, Event, ModelVersion, Score
from shared.review.approval import live_decisions, review_states
from shared.review.models import APPROVE, REJECT, CreativeDecision

Status = Literal["awaiting", "approved", "rejected", "all"]
MAX_BULK = 2000  # creatives one bulk approve may decide


class QueueFilter(BaseModel):
    """Query-string filters; blank fields are "any". Validated before they reach SQL."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    campaign: str | None = Field(default=None, max_length=128)
    ad_type: str | None = Field(default=None, max_length=32)
    size: str | None = Field(default=None, max_length=16)
    segment: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=80)
    servable: bool | None = None
    status: Status = "awaiting"
    min_alignment: float | None = None
    max_alignment: float | None = None
    min_realism: float | None = None
    max_realism: float | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if v == "" else v

    @field_validator("min_alignment", "max_alignment", "min_realism", "max_realism")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("score bounds must be finite numbers")
        return v

    def query_items(self) -> dict[str, str]:
        """The non-default filters as query-string pairs (links, the bulk form)."""
        out: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None or (name == "status" and value == "awaiting"):
                continue
            out[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return out


@dataclass(frozen=True)
class QueueItem:
    creative_id: str
    campaign_id: str
    campaign_name: str
    ad_type: str
    size: str
    width: int
    height: int
    segment: str | None
    model_version_id: str | None
    servable: bool
    servable_reason: str | None
    copy: dict[str, str]
    object_key: str
    created_at: datetime | None
    state: str = "pending"
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class FilterOptions:
    campaigns: list[tuple[str, str]]  # (id, name)
    ad_types: list[str]
    sizes: list[str]
    segments: list[str]
    models: list[tuple[str, str]]  # (id, name)


def _segment() -> ColumnElement[str]:
    return Event.payload["audience"]["segment"].as_string()


def _score_bound(metric: str, low: float | None, high: float | None) -> ColumnElement[bool]:
    conds = [Score.creative_id == Creative.creative_id, Score.metric == metric]
    if low is not None:
        conds.append(Score.value >= low)
    if high is not None:
        conds.append(Score.value <= high)
    return exists().where(and_(*conds))


def _filtered(query: Select, f: QueueFilter) -> Select:  # type: ignore[type-arg]
    """`query` (which selects from creatives joined to events) with the filters applied."""
    for column, value in (
        (Creative.campaign_id, f.campaign),
        (Creative.ad_type, f.ad_type),
        (Creative.size, f.size),
        (Creative.model_version_id, f.model),
        (Creative.servable, f.servable),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.segment is not None:
        query = query.where(_segment() == f.segment)
    for metric, low, high in (
        ("alignment", f.min_alignment, f.max_alignment),
        ("realism", f.min_realism, f.max_realism),
    ):
        if low is not None or high is not None:
            query = query.where(_score_bound(metric, low, high))
    if f.status != "all":
        live = live_decisions().subquery()
        query = query.outerjoin(live, live.c.creative_id == Creative.creative_id)
        if f.status == "awaiting":
            query = query.where(live.c.id.is_(None))
        else:
            wanted = APPROVE if f.status == "approved" else REJECT
            query = query.where(
                exists().where(
                    CreativeDecision.id == live.c.id, CreativeDecision.decision == wanted
                )
            )
    return query


def _base() -> Select:  # type: ignore[type-arg]
    return (
        select(Creative, Campaign.name, _segment())
        .join(Event, Event.event_id == Creative.event_id)
        .join(Campaign, Campaign.id == Creative.campaign_id)
    )


def _copy(details: dict[str, Any] | None) -> dict[str, str]:
    raw = ((details or {}).get("plan") or {}).get("copy") or {}
    keys = ("kicker", "headline", "price", "tagline", "cta", "brand")
    return {
        k: raw[k] for k in keys if isinstance(raw, dict) and isinstance(raw.get(k), str) and raw[k]
    }


def scores_for(*, session: Session, creative_ids: list[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if creative_ids:
        for cid, metric, value in session.execute(
            select(Score.creative_id, Score.metric, Score.value)
            .where(Score.creative_id.in_(creative_ids))
            .order_by(Score.metric)
        ):
            out.setdefault(cid, {})[metric] = value
    return out


def list_queue(
    *, session: Session, filters: QueueFilter, page: int = 1, page_size: int = 48
) -> QueuePage:
    """One page of the filtered queue, newest first."""
    total = int(
        session.scalar(
            _filtered(
                select(func.count())
                .select_from(Creative)
                .join(Event, Event.event_id == Creative.event_id),
                filters,
            )
        )
        or 0
    )
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, page), pages)
    rows = session.execute(
        _filtered(_base(), filters)
        .order_by(Creative.created_at.desc(), Creative.creative_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    ids = [c.creative_id for c, _name, _seg in rows]
    scores = scores_for(session=session, creative_ids=ids)
    states = review_states(session=session, creative_ids=ids)
    items = [
        _item(c, name, seg, states[c.creative_id], scores.get(c.creative_id, {}))
        for c, name, seg in rows
    ]
    return QueuePage(items=items, total=total, page=page, pages=pages)


def _item(
    c: Creative, campaign_name: str, segment: str | None, state: str, scores: dict[str, float]
) -> QueueItem:
    return QueueItem(
        creative_id=c.creative_id,
        campaign_id=c.campaign_id,
        campaign_name=campaign_name,
        ad_type=c.ad_type,
        size=c.size,
        width=c.width,
        height=c.height,
        segment=segment,
        model_version_id=c.model_version_id,
        servable=c.servable,
        servable_reason=c.servable_reason,
        copy=_copy(c.details),
        object_key=c.object_key,
        created_at=c.created_at,
        state=state,
        scores=scores,
    )


def get_item(*, session: Session, creative_id: str) -> QueueItem | None:
    row = session.execute(_base().where(Creative.creative_id == creative_id)).first()
    if row is None:
        return None
    c, name, seg = row
    state = review_states(session=session, creative_ids=[creative_id])[creative_id]
    return _item(
        c,
        name,
        seg,
        state,
        scores_for(session=session, creative_ids=[creative_id]).get(creative_id, {}),
    )


def matching_ids(*, session: Session, filters: QueueFilter, limit: int = MAX_BULK) -> list[str]:
    """Ids of the filtered set (newest first), at most `limit` (bulk approve)."""
    query = _filtered(
        select(Creative.creative_id).join(Event, Event.event_id == Creative.event_id), filters
    )
    return list(session.scalars(query.order_by(Creative.created_at.desc()).limit(limit)))


def filter_options(*, session: Session) -> FilterOptions:
    def values(column: Any) -> list[str]:
        return sorted(v for v in session.scalars(select(column).distinct()) if v)

    segments = sorted(
        v
        for v in session.scalars(
            select(_segment()).distinct().select_from(Event).where(Event.campaign_id.is_not(None))
        )
        if v
    )
    models = [
        (i, n)
        for i, n in session.execute(
            select(ModelVersion.id, ModelVersion.name).order_by(ModelVersion.created_at.desc())
        )
    ]
    campaigns = [
        (i, n)
        for i, n in session.execute(
            select(Campaign.id, Campaign.name).order_by(Campaign.name, Campaign.id)
        )
    ]
    return FilterOptions(
        campaigns=campaigns,
        ad_types=values(Creative.ad_type),
        sizes=values(Creative.size),
        segments=segments,
        models=models,
    )


def decision_history(
    *, session: Session, creative_id: str | None = None, limit: int = 200
) -> list[tuple[CreativeDecision, bool]]:
    """Audit rows newest first, each with whether a later undo cancelled it."""
    query = select(CreativeDecision).order_by(CreativeDecision.id.desc()).limit(limit)
    if creative_id is not None:
        query = query.where(CreativeDecision.creative_id == creative_id)
    rows = list(session.scalars(query))
    undone = (
        set(
            session.scalars(
                select(CreativeDecision.undoes_id).where(
                    CreativeDecision.undoes_id.in_([r.id for r in rows])
                )
            )
        )
        if rows
        else set()
    )
    return [(r, r.id in undone) for r in rows]
