"""Sample campaign events of all four types, for the demo, tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events import CampaignEvent

_PRODUCTS: dict[str, dict[str, Any]] = {
    "shoe": {"sku": "SKU-RUN-001", "title": "Trail running shoe", "category": "shoes",
             "description": "Lightweight trail runner with a grippy sole.", "price": "89.99",
             "currency": "USD", "brand": "Stride"},
    "bag": {"sku": "SKU-BAG-014", "title": "Red leather handbag", "category": "bags",
            "description": "Soft leather handbag with a gold clasp.", "price": "149.00",
            "currency": "EUR", "brand": "Maison Lune"},
    "watch": {"sku": "SKU-WAT-203", "title": "Classic wristwatch", "category": "jewellery",
              "description": "Steel wristwatch.", "price": "249.00", "currency": "USD",
              "brand": "Tempo"},
    "cap": {"sku": "SKU-CAP-077", "title": "Billed cap", "category": "clothing",
            "description": "Cotton cap.", "price": "19.50", "currency": "USD", "brand": "Stride"},
    "coffee": {"sku": "SKU-COF-310", "title": "Hot coffee", "category": "food and drink",
               "description": "Single-origin roast.", "price": "12.00", "currency": "GBP",
               "brand": "Bean & Co"},
    "lipstick": {"sku": "SKU-LIP-042", "title": "Lipstick", "category": "cosmetics",
                 "description": "Long-lasting colour.", "price": "24.00", "currency": "USD",
                 "brand": "Rouge"},
}


def sample_events(prefix: str, now: datetime | None = None, count: int = 1,
                  sizes: list[str] | None = None) -> list[CampaignEvent]:
    """One event of each type (plus a second audience for display), ids starting with prefix."""
    now = now or datetime.now(UTC)
    # Without explicit sizes, each type shows off different placements.
    by_type = {"product_display": ["300x250", "728x90"], "cart": ["300x250", "320x50"],
               "recommendation": ["1080x1080", "728x90"], "brand": ["160x600", "300x250"]}
    P = _PRODUCTS
    raw: list[dict[str, Any]] = [
        {"type": "product_display", "products": [P["shoe"]],
         "audience": {"segment": "sporty", "interests": ["running", "outdoor"], "locale": "en-US"},
         "creative": {"count": count, "sizes": sizes, "style": "bold"}},
        {"type": "product_display", "products": [P["shoe"]],
         "audience": {"segment": "luxury", "interests": ["fashion"], "locale": "en-GB"},
         "creative": {"count": count, "sizes": sizes, "style": "clean"}},
        {"type": "cart", "products": [P["bag"]],
         "audience": {"segment": "returning", "interests": ["fashion"], "locale": "de-DE"},
         "creative": {"count": count, "sizes": sizes, "style": "clean"}},
        {"type": "recommendation", "products": [P["watch"], P["cap"], P["lipstick"]],
         "audience": {"segment": "young", "interests": ["style"], "locale": "en-US"},
         "creative": {"count": count, "sizes": sizes, "style": "seasonal"}},
        {"type": "brand", "products": [P["coffee"]],
         "audience": {"segment": "professional", "interests": ["coffee"], "locale": "en-GB"},
         "creative": {"count": count, "sizes": sizes, "style": "bold"},
         "brand": {"name": "Bean & Co", "primary_color": "#4B2E1E", "secondary_color": "#F3E9DC",
                   "tagline": "Roasted this week"}},
    ]
    events = []
    for i, r in enumerate(raw):
        r["creative"]["sizes"] = sizes or by_type[r["type"]]
        events.append(CampaignEvent.model_validate({
            "event_id": f"{prefix}-{i:03d}", "occurred_at": now.isoformat(),
            "campaign": {"id": f"{prefix}-camp-{r['type']}", "advertiser_id": "adv-demo",
                         "name": f"Demo {r['type'].replace('_', ' ')}"},
            **r,
        }))
    return events
