"""Populate a database and store with real creatives through the worker path (no Celery)."""

from __future__ import annotations

import json
from typing import Any

from shared.events import CampaignEvent
from shared.pipeline import Context, handle_event_task
from shared.samples import sample_events
from shared.storage import ObjectStore

HOSTILE_TITLE = '<script>alert("pwned")</script> & "Trail" shoe'
HOSTILE_CAMPAIGN = "<img src=x onerror=alert(1)> Spring"


def fake_scorer(
    event: CampaignEvent, plan: Any, images: Any, creatives: list[Any]
) -> list[tuple[dict[str, float], bool, str | None]]:
    """Deterministic scores on mixed scales; the last creative of cart and brand events is not
    servable."""
    out = []
    for i, _ in enumerate(creatives):
        metrics = {
            "alignment": 0.3 + 0.1 * i,
            "realism": 0.9 - 0.05 * i,
            "category_confidence": 0.5,
            "psnr_ref": 20.0 + i,
            "near_duplicate": 0.0,
        }
        bad = event.type in ("cart", "brand") and i == len(creatives) - 1
        out.append((metrics, not bad, "near_duplicate: <b>too similar</b>" if bad else None))
    return out


def populate(
    db_url: str,
    store: ObjectStore,
    runtime: Any,
    prefix: str = "an",
    hostile: bool = True,
    sizes: list[str] | None = None,
    count: int = 1,
) -> list[CampaignEvent]:
    """Sample events (one per ad type), the first in its own campaign with a hostile product
    title and campaign name; returns the events as processed."""
    ctx = Context.local(db_url, store, runtime, worker="analytics-test", scorer=fake_scorer)
    events = sample_events(prefix, sizes=sizes, count=count)
    if hostile:
        raw = json.loads(events[0].canonical_json())
        raw["products"][0]["title"] = HOSTILE_TITLE
        raw["campaign"]["name"] = HOSTILE_CAMPAIGN
        raw["campaign"]["id"] = f"{prefix}-camp-hostile"
        events[0] = CampaignEvent.model_validate(raw)
    for ev in events:
        out = handle_event_task([ev.canonical_json()], {}, ctx)
        assert out.status == "done", out
    return events
