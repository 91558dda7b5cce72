"""The authenticated hand-off between the device stage and the CPU render stage.

A generate worker that claimed an event sends the event, its generated product images (small
PNGs, base64), the claim's attempt number and an HMAC-SHA256 over all of it, keyed with the
workers' shared key (`ADGEN_WORKER_KEY`; never the publishers' event key, so a producer who may
publish events still cannot forge a hand-off). The render stage accepts a hand-off only when the
MAC verifies and the ledger confirms that this attempt is the live claim on exactly this payload
(`Ledger.holds_claim`); anything else is rejected with its reason before any upload or write.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from typing import Any

from PIL import Image

from shared.events import CampaignEvent, Rejection
from shared.intake import describe

VERSION = 1
MAX_IMAGE_BYTES = 256 * 1024  # a 64-128 px product PNG is a few KB; refuse anything odd
MAX_IMAGE_SIDE = 1024
ImageKey = tuple[int, int]  # (variant, image index), as in the event plan


@dataclass(frozen=True)
class Handoff:
    event: CampaignEvent
    attempt: int
    images: dict[ImageKey, Image.Image]
    generate_ms: float


def _mac(body: dict[str, Any], key: str) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def seal(
    event: CampaignEvent,
    attempt: int,
    images: dict[ImageKey, Image.Image],
    generate_ms: float,
    key: str,
) -> dict[str, Any]:
    encoded: dict[str, str] = {}
    for (variant, idx), img in images.items():
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        encoded[f"{variant},{idx}"] = base64.b64encode(buf.getvalue()).decode("ascii")
    body = {
        "v": VERSION,
        "event": event.canonical_json(),
        "attempt": attempt,
        "images": encoded,
        "generate_ms": round(float(generate_ms), 3),
    }
    return {**body, "mac": _mac(body, key)}


def _decode_image(key: str, b64: Any) -> tuple[ImageKey, Image.Image]:
    variant, idx = (int(x) for x in key.split(",", 1))
    if not isinstance(b64, str):
        raise ValueError(f"image {key} is not base64 text")
    data = base64.b64decode(b64, validate=True)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"image {key} is {len(data)} bytes")
    img = Image.open(io.BytesIO(data))
    if img.format != "PNG" or max(img.size) > MAX_IMAGE_SIDE:
        raise ValueError(f"image {key} is not a product PNG ({img.format}, {img.size})")
    img.load()
    return (variant, idx), img.convert("RGB")


def open_handoff(message: Any, key: str | None, payload_cap: int) -> Handoff | Rejection:
    """Verify and decode a hand-off message; never raises for bad input."""

    def no(reason: str, event_id: str | None = None) -> Rejection:
        return Rejection(
            reason=f"render hand-off refused: {reason}",
            event_id=event_id,
            payload=describe(message, payload_cap),
        )

    if not key:
        return no("this worker has no worker key (ADGEN_WORKER_KEY) to verify hand-offs")
    if not isinstance(message, dict) or not isinstance(message.get("mac"), str):
        return no("not a sealed hand-off (no MAC)")
    body = {k: v for k, v in message.items() if k != "mac"}
    try:
        expected = _mac(body, key)
    except (TypeError, ValueError, RecursionError):
        return no("unreadable hand-off")
    mac = message["mac"]
    # compare_digest refuses non-ASCII text with a TypeError; such a MAC cannot match.
    if not mac.isascii() or not hmac.compare_digest(expected, mac):
        return no("MAC does not verify (not sealed by one of our generate workers)")
    # From here on the content was written by our own worker; still decode defensively.
    try:
        event = CampaignEvent.model_validate_json(body["event"])
        images = dict(_decode_image(k, v) for k, v in body["images"].items())
        return Handoff(event, int(body["attempt"]), images, float(body["generate_ms"]))
    except Exception as exc:  # noqa: BLE001 - any decoding problem is a rejection
        return no(f"undecodable content: {type(exc).__name__}: {exc}"[:300])
