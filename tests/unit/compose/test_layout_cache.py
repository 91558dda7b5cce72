"""Layouts are cached on the fields they read; the cache must never change a layout."""

from __future__ import annotations

from dataclasses import replace

from shared.compose.layouts import _layout, build_layout
from shared.personalize import plan_event
from shared.samples import sample_events

SIZES = ["1080x1080", "300x250", "728x90", "160x600", "320x50"]


def test_cached_layout_equals_the_layout_of_the_full_plan() -> None:
    """For every sample plan (four ad types, tones, locales, five sizes), the layout built from
    the full plan - no key, no cache - equals the cached one: the key drops nothing it reads."""
    plans = [
        cp for ev in sample_events("lc", count=3, sizes=SIZES) for cp in plan_event(ev).creatives
    ]
    assert len(plans) >= 40
    for cp in plans:
        assert build_layout(cp) == _layout.__wrapped__(cp, len(cp.image_keys)), cp.creative_id


def test_plans_that_differ_only_in_ignored_fields_share_a_layout() -> None:
    cp = plan_event(sample_events("share", count=1)[0]).creatives[0]
    twin = replace(cp, creative_id="other", seed=99, index=7, tone="playful")
    assert build_layout(twin) is build_layout(cp)
    moved = replace(cp, copy=replace(cp.copy, headline=cp.copy.headline + " Pro Max"))
    assert build_layout(moved) != build_layout(cp)
