"""Events, plans and synthetic product images for the composition tests."""

from __future__ import annotations

from typing import Any

from PIL import Image

from shared.compose.preview import sample_event, synthetic_product
from shared.events import CampaignEvent
from shared.personalize import plan_event
from shared.plan import CreativePlan

LONG_TITLE = (
    "Ultra Lightweight Waterproof Breathable Trail Running Shoe with Reflective "
    "Details and Extra-Cushioned Recycled Foam Midsole for Long Distances"
)
TITLES = {
    "long": LONG_TITLE,
    "short": "Mug",
    "one-char": "X",
    # The schema refuses a title of only spaces; one of only emoji passes it, and composition
    # then drops every glyph (no emoji font): the headline is empty all the same.
    "blank": "👟🏃\u200d♀️",
    "emoji": "Running Shoe 👟🏃\u200d♀️ Limited",  # DejaVu has no emoji: dropped, no tofu
    "unbreakable": "Supercalifragilisticexpialidocious" * 3,
    "cjk": "高级真皮手提包 黑色 限量版 经典款式 轻便耐用",
}


def event_with(
    ad_type: str = "product_display",
    title: str | None = None,
    style: str = "clean",
    locale: str = "en-US",
    **kwargs: Any,
) -> CampaignEvent:
    event = sample_event(ad_type, style, locale=locale, **kwargs)
    if title is None:
        return event
    data = event.model_dump(mode="json")
    data["products"][0]["title"] = title
    return CampaignEvent.model_validate(data)


def images_for(plan: CreativePlan, event: CampaignEvent) -> list[Image.Image]:
    requests = {r.key: r for r in plan_event(event).images}
    return [synthetic_product(requests[k]) for k in plan.image_keys]
