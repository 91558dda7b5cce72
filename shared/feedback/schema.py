"""Feedback events: what the ad server reports about creatives it served. Strict, versioned.

One message per impression, click or conversion. Clicks and conversions name the impression they
belong to (`impression_id`); an impression's `impression_id` is its own `id`. The same impression,
click or conversion delivered twice counts once: `id` is the idempotency key, and an impression
has at most one click and one conversion. See docs/feedback.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events import ID_PATTERN, AdSize

FEEDBACK_SCHEMA_VERSION = 1
Kind = Literal["impression", "click", "conversion"]
KINDS: tuple[str, ...] = ("impression", "click", "conversion")
CREATIVE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SEGMENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,63}$"


class FeedbackEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    id: str = Field(pattern=ID_PATTERN)
    kind: Kind
    impression_id: str = Field(pattern=ID_PATTERN)
    creative_id: str = Field(pattern=CREATIVE_ID_PATTERN)
    campaign: str = Field(pattern=ID_PATTERN)
    size: AdSize
    segment: str = Field(pattern=SEGMENT_PATTERN)
    occurred_at: datetime
    # The probability the serving plan gave this creative when it was drawn (logged for
    # off-policy evaluation); (0, 1].
    selection_probability: float = Field(gt=0, le=1)
    # One message is one impression/click/conversion; a count other than 1 is refused so that
    # pre-aggregated or corrupted counts can never inflate the aggregates.
    count: int = 1
    # Conversion value in the campaign's currency; only conversions carry one.
    value: float | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _rules(self) -> FeedbackEvent:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must include a timezone offset")
        if self.count != 1:
            raise ValueError(f"count must be 1 (one message per {self.kind}), got {self.count}")
        if self.kind == "impression" and self.impression_id != self.id:
            raise ValueError("an impression's impression_id must equal its id")
        if self.kind != "conversion" and self.value is not None:
            raise ValueError("only conversions carry a value")
        return self
