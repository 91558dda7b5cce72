"""Daily feedback roll-ups written directly, so a test can give creatives evidence at once."""

from __future__ import annotations

from datetime import date

from shared.db.engine import session_scope
from shared.feedback.models import FeedbackDaily


def add_daily_evidence(
    url: str,
    rows: dict[str, tuple[int, int]],
    day: date,
    campaign: str = "camp",
    size: str = "300x250",
    segment: str = "sporty",
) -> None:
    """{creative_id: (impressions, clicks)} as one day's roll-up per creative."""
    with session_scope(url) as s:
        s.add_all(
            FeedbackDaily(
                creative_id=cid,
                segment=segment,
                day=day,
                campaign_id=campaign,
                size=size,
                impressions=imps,
                clicks=clicks,
                conversions=0,
                conversion_value=0.0,
            )
            for cid, (imps, clicks) in rows.items()
        )
