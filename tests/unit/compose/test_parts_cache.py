"""Composition from cached parts gives the same bytes as drawing every layer each time."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from shared.compose import compose_creative
from shared.compose.draw import text_layer
from shared.compose.layouts import build_layout
from shared.compose.parts_cache import PartsCache, compose_cached
from shared.events import EVENT_TYPES
from shared.personalize import plan_event
from tests.unit.compose.helpers import TITLES, event_with, images_for

STYLES = ("clean", "bold", "seasonal")


def _recoloured(images: list[Image.Image], shift: int) -> list[Image.Image]:
    """Other product pictures for the same plan (what the next event's generator returns)."""
    return [im.point(lambda v: (v + shift) % 256) for im in images]


@pytest.mark.parametrize("ad_type", EVENT_TYPES)
@pytest.mark.parametrize("style", STYLES)
def test_cached_parts_give_identical_bytes(ad_type: str, style: str) -> None:
    cache = PartsCache()
    event = event_with(
        ad_type,
        style=style,
        brand={"name": "Bean & Co", "primary_color": "#4B2E1E", "secondary_color": "#F3E9DC"}
        if ad_type == "brand"
        else None,
    )
    for plan in plan_event(event).creatives:  # every placement
        images = images_for(plan, event)
        for imgs in (images, _recoloured(images, 97), images):  # miss, other images, hit
            assert (
                compose_cached(plan, imgs, event, cache=cache).tobytes()
                == compose_creative(plan, imgs, event).tobytes()
            ), (plan.size, plan.variant)
    # every placement's layout is rendered once; the other images (another theme) hit
    assert cache.stats.misses == len(cache) and cache.stats.hits >= cache.stats.misses


@pytest.mark.parametrize("title", ["long", "cjk", "emoji"])
def test_identical_with_hard_copy(title: str) -> None:
    cache = PartsCache()
    event = event_with("product_display", title=TITLES[title], style="seasonal")
    for plan in plan_event(event).creatives:
        images = images_for(plan, event)
        for _ in range(2):
            assert (
                compose_cached(plan, images, event, cache=cache).tobytes()
                == compose_creative(plan, images, event).tobytes()
            )


def test_a_hit_serves_any_theme() -> None:
    """Another product picture gives another base colour, hence another theme: the text is
    still the layout's cached masks (before session 6 every new theme was a miss)."""
    cache = PartsCache()
    event = event_with("product_display", style="bold")
    plan = plan_event(event).creatives[0]
    images = images_for(plan, event)
    other = _recoloured(images, 97)
    first = compose_cached(plan, images, event, cache=cache)
    second = compose_cached(plan, other, event, cache=cache)
    assert (cache.stats.misses, cache.stats.hits) == (1, 1)
    assert first.getpixel((0, 0)) != second.getpixel((0, 0))  # the background followed the image
    assert second.tobytes() == compose_creative(plan, other, event).tobytes()


def test_the_cache_stays_within_its_bytes() -> None:
    event = event_with("product_display", style="clean")
    plans = plan_event(event).creatives
    sizes = [sum(m.width * m.height for _, _, m in text_layer(build_layout(p))) for p in plans]
    cache = PartsCache(max_bytes=max(sizes) + 1)  # room for the largest layout's masks
    for plan in plans:
        compose_cached(plan, images_for(plan, event), event, cache=cache)
        assert 0 < cache.nbytes <= cache.max_bytes
    assert 1 <= len(cache) < len(plans)


def test_off_draws_every_layer() -> None:
    cache = PartsCache(max_bytes=0)
    event = event_with("cart", style="bold")
    plan = plan_event(event).creatives[0]
    images = images_for(plan, event)
    out = compose_cached(plan, images, event, cache=cache)
    assert out.tobytes() == compose_creative(plan, images, event).tobytes()
    assert len(cache) == 0 and cache.stats.plain == 1


def test_text_over_a_card_keeps_the_drawing_order() -> None:
    """Text is painted after the cards, as `render_layout` draws it, so a layout whose text
    overlaps a card (none of the templates does) still gives the same bytes."""
    from shared.compose.draw import render_layout
    from shared.compose.parts_cache import theme_for

    event = event_with("product_display", style="clean")
    plan = plan_event(event).creatives[0]
    layout = build_layout(plan, 1)
    text = next(e for e in layout.elements if e.lines)
    tile = next(e for e in layout.elements if e.image_index >= 0)
    side = tile.box[2] - tile.box[0]
    x, y = text.lines[0].x, text.lines[0].y
    moved = tuple(
        type(e)(e.kind, (x, y, x + side, y + side), e.lines, e.font, e.size, e.image_index)
        if e is tile
        else e
        for e in layout.elements
    )
    overlapping = type(layout)(
        layout.width,
        layout.height,
        layout.template,
        layout.arrangement,
        moved,
        layout.dropped,
        layout.radius,
        layout.tiles_radius,
        layout.shadow,
    )
    images = images_for(plan, event)
    theme = theme_for(plan, images, event)
    cache = PartsCache()
    for _ in range(2):  # miss, then hit
        assert (
            cache.render(overlapping, theme, images, plan.seed).tobytes()
            == render_layout(overlapping, theme, images, plan.seed).tobytes()
        )


def test_threads_share_one_cache() -> None:
    cache = PartsCache()
    event = event_with("recommendation", style="seasonal")
    plans = plan_event(event).creatives
    expected = {
        p.creative_id: compose_creative(p, images_for(p, event), event).tobytes() for p in plans
    }
    wrong: list[str] = []

    def work() -> None:
        for p in plans * 2:
            if (
                compose_cached(p, images_for(p, event), event, cache=cache).tobytes()
                != expected[p.creative_id]
            ):
                wrong.append(p.creative_id)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong
    # Threads that miss the same key together each draw it once: at most one miss per thread.
    assert cache.stats.hits + cache.stats.misses == len(plans) * 6
    assert cache.stats.hits >= len(plans) * 3
