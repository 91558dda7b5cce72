"""Composition from cached parts: the static layers of a creative drawn once, reused after.

A creative is three layers (shared.compose.draw): ground (background + decoration), product
cards, text (copy + button). Ground and text depend only on the layout (placement x template x
copy x typeface) and the theme (style x base colour x brand), plus the decoration's seed; so
they are drawn once per such key into one image, and each creative copies it and pastes its
product cards on top.

Pasting cards after the text instead of before gives the same bytes only where no card touches
a text pixel. That is checked once per layout: the pixels text covers (drawn as a coverage
mask) against the pixels the card pasting covers (a probe paste onto black); a layout where
they meet is always drawn the plain way. tests/unit/test_parts_cache.py compares the two paths
byte for byte over every sample event, size and style.

The cache is a byte-bounded LRU shared by the worker's threads (one lock; a miss draws outside
it, so two threads may draw the same key once each, and both results are equal).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageChops

from shared.compose.colors import RGB
from shared.compose.draw import (
    base_colour,
    draw_ground,
    draw_text,
    paste_products,
    render_layout,
)
from shared.compose.layouts import Layout, build_layout
from shared.compose.scaling import Tiles
from shared.compose.styles import Theme, make_theme
from shared.events import CampaignEvent

if TYPE_CHECKING:
    from shared.plan import CreativePlan

_WHITE: RGB = (255, 255, 255)


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    plain: int = 0  # layouts whose cards touch text: drawn without the cache


class PartsCache:
    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[tuple[object, ...], Image.Image] = OrderedDict()
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
        if self.max_bytes <= 0 or not cards_clear_of_text(layout):
            with self._lock:
                self.stats.plain += 1
            return render_layout(layout, theme, product_images, seed, tiles)
        key = (layout, theme, seed if theme.confetti else 0)
        with self._lock:
            static = self._entries.get(key)
            if static is not None:
                self._entries.move_to_end(key)
                self.stats.hits += 1
            else:
                self.stats.misses += 1
        if static is None:
            static = draw_ground(layout, theme, seed)
            draw_text(static, layout, theme)
            self._put(key, static)
        canvas = static.copy()  # the cached image is shared: never drawn on
        paste_products(canvas, layout, theme, product_images, tiles)
        return canvas

    def _put(self, key: tuple[object, ...], image: Image.Image) -> None:
        size = _nbytes(image)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= _nbytes(old)
            self._entries[key] = image
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


def _nbytes(image: Image.Image) -> int:
    return image.width * image.height * 4  # Pillow keeps RGB as 4 bytes a pixel


@lru_cache(maxsize=4096)
def cards_clear_of_text(layout: Layout) -> bool:
    """True when no pixel that pasting the product cards changes is one the text draws on."""
    tiles = [e for e in layout.elements if e.image_index >= 0]
    if not tiles or not layout.text_elements:
        return True
    text = Image.new("L", (layout.width, layout.height), 0)
    probe_theme = Theme("probe", (0, 0, 0), _WHITE, _WHITE, _WHITE, _WHITE, _WHITE)
    draw_text(text, layout, probe_theme, ink=255)
    # White tiles and a white shadow on black: every pixel the paste blends into at all
    # (any mask value >= 1) comes out non-zero.
    cards = Image.new("RGB", (layout.width, layout.height), (0, 0, 0))
    n = max(e.image_index for e in tiles) + 1
    paste_products(cards, layout, probe_theme, [Image.new("RGB", (64, 64), _WHITE)] * n)
    touched = cards.convert("L").point(lambda v: 255 if v else 0)
    return ImageChops.multiply(touched, text.point(lambda v: 255 if v else 0)).getbbox() is None


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
    """Byte for byte `compose_creative(plan, product_images, event)`, from cached parts
    (with `tiles`: the same layers, the product cards from those ready-scaled tiles)."""
    if len(product_images) != len(plan.image_keys):
        raise ValueError(
            f"plan {plan.creative_id} shows {len(plan.image_keys)} images, "
            f"got {len(product_images)}"
        )
    layout = build_layout(plan, len(product_images))
    theme = theme_for(plan, product_images, event, base)
    cache = cache if cache is not None else default_cache()
    return cache.render(layout, theme, product_images, plan.seed, tiles)


__all__ = ["CacheStats", "PartsCache", "cards_clear_of_text", "compose_cached", "default_cache"]
