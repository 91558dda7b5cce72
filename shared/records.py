"""What producing an event yields: typed records the ledger writes (no database types here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.events import CampaignEvent


@dataclass(frozen=True)
class ModelInfo:
    """The generator version that drew an event's images (recorded once per version)."""

    version: str  # "sha256:<12 hex>"
    name: str
    path: str
    config: dict[str, Any]
    untrained: bool = False


@dataclass(frozen=True)
class CreativeRecord:
    """One stored creative: where its bytes are and how it was made."""

    creative_id: str
    index: int
    size: str
    width: int
    height: int
    variant: str
    style: str
    prompt: str
    seed: int
    object_key: str
    content_type: str
    bytes: int
    compose_ms: float
    encode_ms: float
    upload_ms: float
    details: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """The quality gate's word on one creative, with the scores behind it."""

    scores: dict[str, float]
    servable: bool = True
    reason: str | None = None


@dataclass
class EventResult:
    """A finished event: its creatives (with verdicts, index-aligned) ready to commit."""

    event: CampaignEvent
    model: ModelInfo
    creatives: list[CreativeRecord]
    verdicts: list[Verdict] = field(default_factory=list)
    generate_ms: float = 0.0
    started: float = 0.0  # time.perf_counter() when processing began (same process)
    record_model: bool = True  # False once this process has recorded the model version
