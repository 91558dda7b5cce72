"""The CPU stage of an event: compose each planned creative, encode it, store it; typed records
come back for the ledger. No database, no broker.

Before composing, the product tiles of all the event's creatives are scaled in one device stage
(`shared.compose.upscale.event_tiles`, tensor ops on the generator's device); its cost is
reported apart ("tiles" on the device, "tiles_host" for the hand-over to Pillow)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from PIL import Image

from shared.compose.colors import RGB
from shared.compose.draw import base_colour
from shared.compose.parts_cache import PartsCache, compose_cached
from shared.compose.upscale import EventTiles, event_tiles
from shared.deadline import Deadline
from shared.encoding import Encoding, Pixels
from shared.events import CampaignEvent
from shared.handoff import ImageKey
from shared.ids import object_key
from shared.placements import get_placement
from shared.plan import EventPlan
from shared.records import CreativeRecord, ModelInfo
from shared.storage import ObjectStore

STAGES = ("compose", "encode", "upload")
TILE_STAGES = ("tiles", "tiles_host")


@dataclass
class Produced:
    records: list[CreativeRecord]
    # the composed creatives' pixels, index-aligned: read out once, encoded, and read again by
    # the scorer's creative statistics without another copy
    pixels: list[Pixels]
    totals_ms: dict[str, float] = field(default_factory=dict)  # wall time per stage
    # CPU of this thread per stage (what the host pays, whatever else the pool is doing)
    cpu_ms: dict[str, float] = field(default_factory=dict)


def produce_creatives(
    event: CampaignEvent,
    plan: EventPlan,
    images: dict[ImageKey, Image.Image],
    store: ObjectStore,
    model: ModelInfo,
    *,
    encoding: Encoding,
    deadline: Deadline,
    parts: PartsCache | None = None,
    tile_device: torch.device | None = None,
) -> Produced:
    """`tile_device`: scale the product tiles there first (None: Pillow, creative by creative)."""
    prompts = {r.key: r.prompt for r in plan.images}
    seeds = {r.key: r.seed for r in plan.images}
    out = Produced([], [], dict.fromkeys(STAGES, 0.0), dict.fromkeys(STAGES, 0.0))
    tiles: EventTiles | None = None
    if tile_device is not None:
        deadline.check("tiles")
        t0 = time.perf_counter()
        tiles = event_tiles(plan, images, tile_device)
        out.totals_ms["tiles"] = (time.perf_counter() - t0) * 1000
        out.cpu_ms["tiles"], out.cpu_ms["tiles_host"] = tiles.device_ms, tiles.host_ms
    # The base colour comes from the first image (or the brand, or the variant's colour word):
    # an image shown in several sizes is measured once, not once per size.
    bases: dict[object, RGB] = {}
    for cp in plan.creatives:
        deadline.check(f"creative {cp.index}")
        t0, c0 = time.perf_counter(), time.thread_time()
        shown = [images[k] for k in cp.image_keys]
        base_key = (cp.image_keys[:1], cp.accent)
        if base_key not in bases:
            bases[base_key] = base_colour(cp, shown, event)
        creative = compose_cached(
            cp,
            shown,
            event,
            base=bases[base_key],
            cache=parts,
            tiles=tiles.for_creative(cp.image_keys) if tiles else None,
        )
        t1, c1 = time.perf_counter(), time.thread_time()
        pixels = Pixels.of(creative)
        data = encoding.encode_pixels(pixels)
        t2, c2 = time.perf_counter(), time.thread_time()
        key = object_key(event.campaign.id, event.event_id, cp.creative_id, encoding.ext)
        store.put(key, data, encoding.content_type)
        t3, c3 = time.perf_counter(), time.thread_time()
        ms = {"compose": (t1 - t0) * 1000, "encode": (t2 - t1) * 1000, "upload": (t3 - t2) * 1000}
        for k, v in ms.items():
            out.totals_ms[k] += v
        for k, v in zip(STAGES, (c1 - c0, c2 - c1, c3 - c2), strict=True):
            out.cpu_ms[k] += v * 1000
        placement = get_placement(cp.size)
        out.pixels.append(pixels)
        out.records.append(
            CreativeRecord(
                creative_id=cp.creative_id,
                index=cp.index,
                size=cp.size,
                width=placement.width,
                height=placement.height,
                variant=cp.variant_name,
                style=cp.style,
                prompt=" | ".join(prompts[k] for k in cp.image_keys),
                seed=seeds[cp.image_keys[0]],
                object_key=key,
                content_type=encoding.content_type,
                bytes=len(data),
                compose_ms=ms["compose"],
                encode_ms=ms["encode"],
                upload_ms=ms["upload"],
                details={
                    "plan": cp.as_record(),
                    "prompts": [prompts[k] for k in cp.image_keys],
                    "seeds": [seeds[k] for k in cp.image_keys],
                    "untrained_model": model.untrained,
                },
            )
        )
    return out
