"""The message between the device stage and the CPU render stage: an event plus its generated
product images (small PNGs, base64) — JSON, like every message AdGen sends."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from shared.events import CampaignEvent

MAX_IMAGE_BYTES = 256 * 1024  # a 64-128 px product PNG is a few KB; refuse anything odd


def encode_handoff(event: CampaignEvent, images: dict[tuple[int, int], Image.Image],
                   generate_ms: float) -> dict[str, Any]:
    out: dict[str, str] = {}
    for (variant, idx), img in images.items():
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        out[f"{variant},{idx}"] = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"event": event.canonical_json(), "images": out, "generate_ms": generate_ms}


def decode_images(images: dict[str, str]) -> dict[tuple[int, int], Image.Image]:
    out: dict[tuple[int, int], Image.Image] = {}
    for key, b64 in images.items():
        variant, idx = (int(x) for x in key.split(",", 1))
        data = base64.b64decode(b64, validate=True)
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(f"handoff image {key} is {len(data)} bytes")
        img = Image.open(io.BytesIO(data))
        img.load()
        out[(variant, idx)] = img.convert("RGB")
    return out
