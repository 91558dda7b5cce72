"""Campaigns, events, creatives and scores written straight to the tables (no generator), for
review tests that need many rows fast. Images, when a store is given, are small real PNGs."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy.orm import Session

from shared.db.models import Campaign, Creative, Event, ModelVersion, Score
from shared.storage import ObjectStore


@dataclass(frozen=True)
class Spec:
    campaign: str = "camp-a"
    ad_type: str = "product_display"
    size: str = "300x250"
    segment: str = "sporty"
    servable: bool = True
    reason: str | None = None
    alignment: float | None = 0.5
    realism: float | None = 0.7
    headline: str = "Trail running shoe"
    model: str = "sha256:aaaaaaaaaaaa"


def png(size: str, colour: tuple[int, int, int]) -> bytes:
    w, h = (int(x) for x in size.split("x"))
    buf = io.BytesIO()
    Image.new("RGB", (w // 4, h // 4), colour).save(buf, format="PNG")
    return buf.getvalue()


def add_creatives(
    session: Session,
    specs: list[Spec],
    store: ObjectStore | None = None,
    start: datetime | None = None,
) -> list[str]:
    """One event and one creative per spec, created one second apart (oldest first)."""
    t0 = start or datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ids: list[str] = []
    for i, spec in enumerate(specs):
        if session.get(Campaign, spec.campaign) is None:
            session.add(
                Campaign(id=spec.campaign, advertiser_id="adv-1", name=f"Campaign {spec.campaign}")
            )
        if session.get(ModelVersion, spec.model) is None:
            session.add(ModelVersion(id=spec.model, name=f"gan {spec.model[-4:]}"))
        session.flush()
        event_id = f"evt-{uuid.uuid4().hex[:12]}"
        at = t0 + timedelta(seconds=i)
        session.add(
            Event(
                event_id=event_id,
                campaign_id=spec.campaign,
                type=spec.ad_type,
                schema_version=1,
                status="done",
                occurred_at=at,
                payload={"audience": {"segment": spec.segment, "locale": "en-US"}},
            )
        )
        cid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{event_id}#0"))
        key = f"creatives/{spec.campaign}/{event_id}/{cid}.png"
        w, h = (int(x) for x in spec.size.split("x"))
        data = png(spec.size, (40 + 17 * i % 200, 90, 160))
        if store is not None:
            store.put(key, data, "image/png")
        session.flush()
        session.add(
            Creative(
                creative_id=cid,
                event_id=event_id,
                campaign_id=spec.campaign,
                index=0,
                ad_type=spec.ad_type,
                size=spec.size,
                width=w,
                height=h,
                variant=f"{spec.segment} v1",
                style="bold",
                prompt="a trail running shoe",
                seed=i,
                object_key=key,
                bytes=len(data),
                model_version_id=spec.model,
                servable=spec.servable,
                servable_reason=spec.reason,
                details={
                    "plan": {
                        "copy": {"headline": spec.headline, "cta": "Shop now", "price": "89.99 USD"}
                    }
                },
                created_at=at,
            )
        )
        session.flush()
        for metric, value in (("alignment", spec.alignment), ("realism", spec.realism)):
            if value is not None:
                session.add(Score(creative_id=cid, metric=metric, value=value))
        ids.append(cid)
    session.flush()
    return ids


def feedback_events(
    creatives: dict[str, tuple[str, str, str]],
    ctr: dict[str, float],
    days: int,
    per_day: int,
    seed: int = 0,
    now: datetime | None = None,
) -> list[dict[str, object]]:
    """Impressions and clicks for `creatives` (id -> (campaign, size, segment)), spread over the
    last `days` days, each creative clicked at its `ctr` (seeded)."""
    import random

    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    out: list[dict[str, object]] = []
    for cid, (campaign, size, segment) in creatives.items():
        for day in range(days):
            at = now - timedelta(days=days - 1 - day, minutes=30)
            for j in range(per_day):
                imp = f"imp-{cid[:8]}-{day}-{j}"
                common = {
                    "impression_id": imp,
                    "creative_id": cid,
                    "campaign": campaign,
                    "size": size,
                    "segment": segment,
                    "selection_probability": 0.5,
                }
                out.append(
                    {"id": imp, "kind": "impression", "occurred_at": at.isoformat(), **common}
                )
                if rng.random() < ctr[cid]:
                    out.append(
                        {
                            "id": f"{imp}-c",
                            "kind": "click",
                            "occurred_at": (at + timedelta(seconds=20)).isoformat(),
                            **common,
                        }
                    )
    return out
