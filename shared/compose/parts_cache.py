"""Composition from cached parts: a layout's text drawn once, reused with any colours.

A creative is three layers (shared.compose.draw): ground (background + decoration), product
cards, text (copy + button). Fitting and rendering the text (FreeType) was most of drawing a
creative. The text's coverage depends on the layout only (placement x template x copy x
typeface), not on the theme, whose base colour follows each product image: so it is rendered
once per layout as masks (`draw.text_layer`), and each creative fills them with its theme's
colours (`draw.paint_text`) -- the same masked fill Pillow's `draw.text` does, in the same
order, so the bytes are those of drawing every layer (tests/unit/compose/test_parts_cache.py
compares the two over every sample event, size and style). The ground is a flat fill, plus
seeded confetti in the seasonal style, and is drawn per creative.

(Until session 6 the cache kept the whole static image per layout x theme; themes follow each
image's dominant colour, so it hit about one creative in four.)

The cache is a byte-bounded LRU shared by the worker's threads (one lock; a miss renders
outside it, so two threads may render the same layout once each, and both results are equal).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from shared.compose.colors import RGB
from shared.compose.draw import (
    TextLayer,
    base_colour,
    draw_ground,
    draw_text,
    paint_text,
    paste_products,
    text_layer,
)
from shared.compose.layouts import Layout, build_layout
from shared.compose.scaling import Tiles
from shared.compose.styles import Theme, make_theme
from shared.events import CampaignEvent

if TYPE_CHECKING:
    from shared.plan import CreativePlan


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    plain: int = 0  # drawn without the cache (it is off)


class PartsCache:
    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[Layout, TextLayer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def render(
        self,
        layout: Layout,
        theme: Theme,
        product_images: list[Image.Image],
        seed: int = 0,
        tiles: Tiles | None = None,
    ) -> Image.Image:
        """The same image as `render_layout(layout, theme, product_images, seed, tiles)`."""
        canvas = draw_ground(layout, theme, seed)
        paste_products(canvas, layout, theme, product_images, tiles)
        if self.max_bytes <= 0:
            with self._lock:
                self.stats.plain += 1
            draw_text(canvas, layout, theme)
            return canvas
        with self._lock:
            layer = self._entries.get(layout)
            if layer is not None:
                self._entries.move_to_end(layout)
                self.stats.hits += 1
            else:
                self.stats.misses += 1
        if layer is None:
            layer = text_layer(layout)
            self._put(layout, layer)
        paint_text(canvas, layer, theme)
        return canvas

    def _put(self, key: Layout, layer: TextLayer) -> None:
        size = _nbytes(layer)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= _nbytes(old)
            self._entries[key] = layer
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= _nbytes(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes


def _nbytes(layer: TextLayer) -> int:
    return sum(mask.width * mask.height for _, _, mask in layer)  # "L": a byte a pixel


def theme_for(
    plan: CreativePlan,
    product_images: list[Image.Image],
    event: CampaignEvent,
    base: RGB | None = None,
) -> Theme:
    """The creative's theme; `base` skips finding the base colour again (same first image)."""
    if base is None:
        base = base_colour(plan, product_images, event)
    return make_theme(plan.style, base, event.brand)


_default: PartsCache | None = None
_default_lock = threading.Lock()


def default_cache() -> PartsCache:
    """This process's cache, bounded by ADGEN_COMPOSE_CACHE_MB."""
    global _default
    with _default_lock:
        if _default is None:
            from shared.config import get_settings

            _default = PartsCache(get_settings().compose_cache_mb << 20)
        return _default


def compose_cached(
    plan: CreativePlan,
    product_images: list[Image.Image],
    event: CampaignEvent,
    *,
    cache: PartsCache | None = None,
    base: RGB | None = None,
    tiles: Tiles | None = None,
) -> Image.Image:
    """Byte for byte `compose_creative(plan, product_images, event)`, the text from cached
    masks (with `tiles`: the same layers, the product cards from those ready-scaled tiles)."""
    if len(product_images) != len(plan.image_keys):
        raise ValueError(
            f"plan {plan.creative_id} shows {len(plan.image_keys)} images, "
            f"got {len(product_images)}"
        )
    layout = build_layout(plan, len(product_images))
    theme = theme_for(plan, product_images, event, base)
    cache = cache if cache is not None else default_cache()
    return cache.render(layout, theme, product_images, plan.seed, tiles)


__all__ = ["CacheStats", "PartsCache", "compose_cached", "default_cache"]
