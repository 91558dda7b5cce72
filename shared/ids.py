"""Deterministic ids and seeds: the same event always yields the same creatives."""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace so creative ids are stable across processes, hosts and releases.
CREATIVE_NAMESPACE = uuid.UUID("6f1c7a52-3b0e-4f7e-9a51-2d3c8e9b7a10")


def creative_id(event_id: str, index: int) -> str:
    """Creative ids derive from event id + index, so a redelivery upserts instead of duplicating."""
    return str(uuid.uuid5(CREATIVE_NAMESPACE, f"{event_id}#{index}"))


def stable_seed(*parts: object) -> int:
    """A 31-bit seed from any parts; equal parts give equal seeds on every machine."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def object_key(campaign_id: str, event_id: str, creative: str, ext: str = "png") -> str:
    """Object key for a creative. Ids are validated by the event schema to contain no '/'."""
    for part in (campaign_id, event_id, creative):
        if "/" in part or part in ("", ".", ".."):
            raise ValueError(f"unsafe key component {part!r}")
    return f"creatives/{campaign_id}/{event_id}/{creative}.{ext}"
