"""Which layout template a placement gets, and how several product images are arranged in it.

Planning (shared.personalize) and drawing (shared.compose.layouts) both read these, so the
arrangement recorded in a plan is the one drawn.
"""

from __future__ import annotations

from typing import Literal

from shared.placements import Placement, get_placement

Template = Literal["banner", "skyscraper", "split", "square"]
Arrangement = Literal["single", "hero+complements", "strip", "grid", "stack", "family"]

# A placement this much wider than tall reads left to right in one row.
BANNER_ASPECT = 3.0
SKYSCRAPER_ASPECT = 0.5
SPLIT_ASPECT = 1.1
# Below this height a banner has room for one product tile and one text line per element.
TINY_BANNER_HEIGHT = 60


def template_for(size: str | Placement) -> Template:
    p = get_placement(size) if isinstance(size, str) else size
    if p.aspect >= BANNER_ASPECT:
        return "banner"
    if p.aspect <= SKYSCRAPER_ASPECT:
        return "skyscraper"
    return "split" if p.aspect >= SPLIT_ASPECT else "square"


def is_tiny(size: str | Placement) -> bool:
    p = get_placement(size) if isinstance(size, str) else size
    return template_for(p) == "banner" and p.height < TINY_BANNER_HEIGHT


def max_tiles(size: str | Placement, ad_type: str) -> int:
    """How many product images a creative of this size and ad type shows (before counts)."""
    if is_tiny(size):
        return 2 if ad_type == "cart" else 1
    if ad_type == "cart":
        return 3  # the cart item and two complements
    if ad_type in ("recommendation", "brand"):
        return 3 if template_for(size) == "skyscraper" else 4
    return 1


def arrangement_for(size: str | Placement, ad_type: str, tiles: int) -> Arrangement:
    if tiles <= 1:
        return "single"
    if ad_type == "cart":
        return "hero+complements"
    if ad_type == "brand":
        return "family"
    template = template_for(size)
    if template == "banner":
        return "strip"
    return "stack" if template == "skyscraper" else "grid"
