"""Contact sheet of every ad type x size x style, from synthetic product images.

    adgen compose sheets --out docs/images/compose_contact_sheet.png \
        --segments-out docs/images/compose_segments.png --cjk-out docs/images/compose_cjk.png

The product images are drawn shapes (no model needed), 64 px like the generator's samples.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from shared.compose.colors import NAMED
from shared.compose.draw import compose_creative
from shared.compose.fonts import latin_font
from shared.events import EVENT_TYPES, CampaignEvent
from shared.personalize import plan_event
from shared.placements import PLACEMENTS
from shared.plan import ImageRequest

STYLES = ("clean", "bold", "seasonal")
BACKDROPS = ((250, 250, 250), (214, 232, 250), (252, 222, 232), (252, 246, 210))


def synthetic_product(request: ImageRequest, size: int = 64) -> Image.Image:
    """A coloured shape on a light backdrop, coloured by the prompt's first word.

    Drawn at 4x and reduced, so edges are anti-aliased like the generator's samples."""
    colour = NAMED.get(request.prompt.split()[0], (120, 120, 120))
    img = Image.new("RGB", (size * 4, size * 4), BACKDROPS[request.seed % len(BACKDROPS)])
    d = ImageDraw.Draw(img)
    s = size * 4 / 64
    outline, w = (40, 40, 40), max(1, round(s))
    shape = request.seed % 3
    if shape == 0:  # a shoe-like wedge
        d.polygon(
            [
                (8 * s, 40 * s),
                (30 * s, 22 * s),
                (40 * s, 34 * s),
                (58 * s, 40 * s),
                (58 * s, 48 * s),
                (8 * s, 48 * s),
            ],
            fill=colour,
            outline=outline,
            width=w,
        )
        d.rectangle((8 * s, 48 * s, 58 * s, 52 * s), fill=(245, 245, 245), outline=outline, width=w)
    elif shape == 1:  # a bag
        d.arc((20 * s, 8 * s, 44 * s, 32 * s), 180, 360, fill=(60, 60, 60), width=round(3 * s))
        d.rounded_rectangle(
            (12 * s, 20 * s, 52 * s, 54 * s), round(6 * s), fill=colour, outline=outline, width=w
        )
    else:  # a mug
        d.rounded_rectangle(
            (14 * s, 16 * s, 42 * s, 52 * s), round(4 * s), fill=colour, outline=outline, width=w
        )
        d.arc((36 * s, 24 * s, 54 * s, 42 * s), 270, 90, fill=colour, width=round(4 * s))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def sample_event(
    ad_type: str,
    style: str,
    sizes: list[str] | None = None,
    locale: str = "en-US",
    segment: str = "sporty",
    count: int = 1,
    **extra: Any,
) -> CampaignEvent:
    products = [
        {
            "sku": "SKU-1",
            "title": "Pegasus Trail Running Shoe",
            "category": "shoes",
            "price": "129.99",
            "brand": "Stride",
        },
        {
            "sku": "SKU-2",
            "title": "City Leather Handbag",
            "category": "bags",
            "price": "89.00",
            "brand": "Stride",
        },
        {
            "sku": "SKU-3",
            "title": "Ceramic Coffee Mug",
            "category": "household",
            "price": "14.50",
            "brand": "Stride",
        },
        {
            "sku": "SKU-4",
            "title": "Merino Hiking Socks",
            "category": "clothing",
            "price": "19.00",
            "brand": "Stride",
        },
    ]
    data: dict[str, Any] = {
        "event_id": f"preview-{ad_type}-{style}",
        "type": ad_type,
        "occurred_at": datetime(2026, 11, 29, tzinfo=UTC).isoformat(),
        "campaign": {"id": "c1", "advertiser_id": "a1", "name": "Preview"},
        "products": products[:1] if ad_type in ("product_display", "cart") else products,
        "audience": {"segment": segment, "interests": [], "locale": locale},
        "creative": {"count": count, "sizes": sizes or list(PLACEMENTS), "style": style, "seed": 7},
    }
    if ad_type == "brand":
        data["brand"] = {
            "name": "Stride",
            "primary_color": "#0B6E4F",
            "secondary_color": "#F4F1EA",
            "tagline": "Every step, lighter.",
        }
    data.update(extra)
    return CampaignEvent.model_validate(data)


def render_event(event: CampaignEvent) -> list[tuple[str, Image.Image]]:
    plan = plan_event(event)
    images = {r.key: synthetic_product(r) for r in plan.images}
    return [
        (c.size, compose_creative(c, [images[k] for k in c.image_keys], event))
        for c in plan.creatives
    ]


def contact_sheet() -> Image.Image:
    """Rows: ad type x style. Each row: 160x600 | 728x90 over 300x250, 320x50 and 1080 at 1/3."""
    rows = [(f"{t} / {s}", sample_event(t, s)) for t in EVENT_TYPES for s in STYLES]
    return _sheet(rows)


# Long marketplace titles as shops in each market write them, with their currency.
CJK_PRODUCTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "zh-CN": (
        ("【2026新款】男士轻便透气跑步鞋，减震防滑（黑色）！官方正品包邮", "CNY", "699"),
        ("真皮女包 大容量托特包「通勤款」单肩手提包", "CNY", "1299"),
        ("陶瓷马克杯 带盖勺 办公室咖啡杯", "CNY", "39.9"),
        ("羊毛袜子 中筒袜 秋冬加厚 5双装", "CNY", "59"),
    ),
    "zh-TW": (
        ("「經典款」男款慢跑鞋、輕量透氣！（黑色）", "TWD", "2480"),
        ("韓版 女生帆布包 大容量單肩包 托特包", "TWD", "890"),
        ("陶瓷 馬克杯 咖啡杯 附蓋 辦公室", "TWD", "450"),
        ("運動 中筒襪 毛巾底 五雙入", "TWD", "299"),
    ),
    "ja-JP": (
        ("【送料無料】ランニングシューズ　メンズ（軽量・厚底）「通気性」ブラック！", "JPY", "8980"),
        ("ハンドバッグ レディース 本革 トートバッグ A4対応", "JPY", "12800"),
        ("マグカップ 大容量 おしゃれ 陶器 北欧", "JPY", "1650"),
        ("靴下 メンズ ビジネス 5足セット 抗菌防臭", "JPY", "1280"),
    ),
}


def cjk_event(ad_type: str, style: str, locale: str) -> CampaignEvent:
    data = sample_event(ad_type, style, locale=locale).model_dump(mode="json")
    for product, (title, currency, price) in zip(
        data["products"], CJK_PRODUCTS[locale], strict=False
    ):
        product.update(title=title, currency=currency, price=price)
    if data.get("brand"):
        data["brand"]["tagline"] = {
            "zh-CN": "每一步，都更轻盈。",
            "zh-TW": "每一步，都更輕盈。",
            "ja-JP": "一歩ずつ、もっと軽く。",
        }[locale]
    data["event_id"] = f"preview-{ad_type}-{style}-{locale}"
    return CampaignEvent.model_validate(data)


def cjk_sheet() -> Image.Image:
    """Rows: zh-CN, zh-TW and ja-JP x every ad type, styles in turn, laid out as contact_sheet."""
    rows = [
        (f"{locale} / {t} / {STYLES[i % 3]}", cjk_event(t, STYLES[i % 3], locale))
        for locale in CJK_PRODUCTS
        for i, t in enumerate(EVENT_TYPES)
    ]
    return _sheet(rows)


def _sheet(rows: list[tuple[str, CampaignEvent]]) -> Image.Image:
    row_w, row_h, label_h = 900, 600, 22
    sheet = Image.new("RGB", (row_w, len(rows) * (row_h + label_h + 8)), (170, 170, 176))
    draw = ImageDraw.Draw(sheet)
    font = latin_font(bold=True).at(14)
    slots = {
        "160x600": (0, 0, 1),
        "728x90": (172, 0, 1),
        "300x250": (172, 100, 1),
        "320x50": (172, 360, 1),
        "1080x1080": (504, 100, 3),
    }
    for r, (label, event) in enumerate(rows):
        top = r * (row_h + label_h + 8)
        draw.text((4, top + 3), label, font=font, fill=(0, 0, 0))
        for size, img in render_event(event):
            x, y, shrink = slots.get(size, (172, 420, 4))
            if shrink > 1:
                img = img.resize(
                    (img.width // shrink, img.height // shrink), Image.Resampling.LANCZOS
                )
            sheet.paste(img, (x, top + label_h + y))
    return sheet


SEGMENTS = (("sporty", "en-US"), ("luxury", "en-US"), ("family", "de-DE"), ("young", "ja-JP"))


def segments_sheet() -> Image.Image:
    """One product for four audiences (and locales): colour, copy, type and button differ."""
    sizes = ["300x250", "728x90", "320x50"]
    sheet = Image.new("RGB", (1050, len(SEGMENTS) * 270), (170, 170, 176))
    draw = ImageDraw.Draw(sheet)
    font = latin_font(bold=True).at(13)
    for r, (segment, locale) in enumerate(SEGMENTS):
        top = r * 270
        event = sample_event(
            "product_display", "clean", sizes=sizes, locale=locale, segment=segment
        )
        plan = plan_event(event).creatives[0]
        draw.text(
            (312, top + 112),
            f"{segment} / {locale}: {plan.variant_name}",
            font=font,
            fill=(0, 0, 0),
        )
        draw.text((312, top + 130), f"prompt: {plan.prompts[0]!r}", font=font, fill=(0, 0, 0))
        for size, img in render_event(event):
            xy = {"300x250": (0, 0), "728x90": (312, 10), "320x50": (312, 160)}[size]
            sheet.paste(img, (xy[0], top + xy[1]))
    return sheet


def save_sheet(img: Image.Image, out: Path) -> int:
    """Write a contact sheet as a small palette PNG; returns its size in bytes."""
    # 256 colours keep flat ad art exact and the sheet small enough for the docs (< 1 MB).
    out.parent.mkdir(parents=True, exist_ok=True)
    # Median cut gives every large flat area (the pale backgrounds) its own exact entry.
    img.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, optimize=True
    )
    return out.stat().st_size
