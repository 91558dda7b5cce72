"""The one place that decides which creatives may be served: servable (the quality gate passed
it), not retired, and approved by review (issue 15, `shared.review.approval.approved_ids`).

Query helpers take the session as a keyword argument; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Creative, Event
from shared.feedback.models import CreativeRetirement
from shared.review.approval import approved_ids


@dataclass(frozen=True)
class Candidate:
    creative_id: str
    campaign_id: str
    size: str
    segment: str  # the audience segment of the event that produced it


def servable_candidates(
    *, session: Session, campaign_id: str | None = None, size: str | None = None
) -> list[Candidate]:
    """Creatives that may enter a serving plan, ordered by campaign, size and id."""
    q = (
        select(Creative.creative_id, Creative.campaign_id, Creative.size, Event.payload)
        .join(Event, Event.event_id == Creative.event_id)
        .outerjoin(CreativeRetirement, CreativeRetirement.creative_id == Creative.creative_id)
        .where(Creative.servable.is_(True), CreativeRetirement.creative_id.is_(None))
        .order_by(Creative.campaign_id, Creative.size, Creative.creative_id)
    )
    if campaign_id is not None:
        q = q.where(Creative.campaign_id == campaign_id)
    if size is not None:
        q = q.where(Creative.size == size)
    rows = session.execute(q).all()
    approved = approved_ids(session=session, creative_ids=[r.creative_id for r in rows])
    out = []
    for r in rows:
        if r.creative_id in approved:
            segment = ((r.payload or {}).get("audience") or {}).get("segment") or "all"
            out.append(Candidate(r.creative_id, r.campaign_id, r.size, str(segment)))
    return out
