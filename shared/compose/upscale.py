"""Product tiles as tensor ops: `scale_product`'s look, batched, on any torch device.

`shared.compose.scaling.scale_product` doubles a generated image with Pillow's LANCZOS until it
is at least the tile's side, reduces it once to the exact side, then applies an unsharp mask.
Every one of those steps is linear and separable except the mask's final threshold:

    resize chain     tile = A X A^T          A = R_k ... R_2 R_1   (Pillow's LANCZOS rows)
    gaussian blur    blur = G tile G^T       G = box^3             (Pillow's 3-pass box blur)
    so               blur = (G A) X (G A)^T

where X is one channel of the source image. The whole chain is therefore two small matrices per
(source size, side), computed once in float64 from Pillow's own coefficient formulas, and the
per-image work is four matrix products and an elementwise threshold -- one batched op per tile
side over all the event's images, on the generator's device. The result differs from Pillow's
only by rounding (Pillow rounds to 8 bits after every pass; tests/unit/compose/test_upscale.py
bounds the difference).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image

from shared.compose.layouts import build_layout
from shared.compose.scaling import SHARPEN_PERCENT, SHARPEN_THRESHOLD, Tiles
from shared.plan import EventPlan

LANCZOS_SUPPORT = 3.0
BLUR_PASSES = 3  # Pillow's GaussianBlur is three box blurs


def _lanczos(x: np.ndarray) -> np.ndarray:
    # Pillow's lanczos_filter: sinc(x) * sinc(x / 3) on [-3, 3)
    inside = (x >= -LANCZOS_SUPPORT) & (x < LANCZOS_SUPPORT)
    return np.where(inside, np.sinc(x) * np.sinc(x / LANCZOS_SUPPORT), 0.0)


@lru_cache(maxsize=256)
def resample_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in]: one axis of Pillow's LANCZOS resize (its `precompute_coeffs`)."""
    scale = n_in / n_out
    filterscale = max(scale, 1.0)
    support = LANCZOS_SUPPORT * filterscale
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = (i + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        x = np.arange(lo, hi)
        w = _lanczos((x - center + 0.5) / filterscale)
        total = w.sum()
        m[i, lo:hi] = w / total if total != 0.0 else w
    return m


def _blur_radius(radius: float, passes: int) -> float:
    # Pillow's _gaussian_blur_radius: the box radius whose `passes` boxes have variance radius^2
    sigma2 = radius * radius / passes
    length = math.sqrt(12.0 * sigma2 + 1.0)
    whole = math.floor((length - 1.0) / 2.0)
    frac = (2 * whole + 1) * (whole * (whole + 1) - 3 * sigma2)
    frac /= 6 * (sigma2 - (whole + 1) * (whole + 1))
    return whole + frac


def box_matrix(n: int, radius: float) -> np.ndarray:
    """[n, n]: one pass of Pillow's box blur of (fractional) `radius`, edges repeated."""
    r = int(radius)
    frac = radius - r
    norm = 2 * radius + 1
    m = np.zeros((n, n))
    idx = np.arange(n)
    for off in range(-r, r + 1):
        np.add.at(m, (idx, np.clip(idx + off, 0, n - 1)), 1.0 / norm)
    for off in (-r - 1, r + 1):
        np.add.at(m, (idx, np.clip(idx + off, 0, n - 1)), frac / norm)
    return m


@lru_cache(maxsize=64)
def tile_operators(n_in: int, side: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(A, GA): the resize chain and its blurred version, [side, n_in] each (GA None when
    `scale_product` does not sharpen, i.e. the factor is at most 1.5)."""
    chain = np.eye(n_in)
    width = n_in
    while width < side:
        chain = resample_matrix(width, width * 2) @ chain
        width *= 2
    if width != side:
        chain = resample_matrix(width, side) @ chain
    factor = side / n_in
    if factor <= 1.5:
        return chain, None
    box = box_matrix(side, _blur_radius(factor * 0.5, BLUR_PASSES))
    blurred = chain
    for _ in range(BLUR_PASSES):
        blurred = box @ blurred
    return chain, blurred


_device_ops: dict[tuple[int, int, str], tuple[torch.Tensor, torch.Tensor | None]] = {}
_device_lock = threading.Lock()


def _operators_on(
    n_in: int, side: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    key = (n_in, side, str(device))
    with _device_lock:
        ops = _device_ops.get(key)
    if ops is None:
        a, ga = tile_operators(n_in, side)
        ops = (
            torch.from_numpy(a).float().to(device),
            None if ga is None else torch.from_numpy(ga).float().to(device),
        )
        with _device_lock:
            _device_ops[key] = ops
    return ops


def upscale_tiles(x: torch.Tensor, side: int) -> torch.Tensor:
    """[k, 3, n, n] float 0..255 on any device -> [k, side, side, 3] uint8 on that device:
    `scale_product` for each image, as batched matrix products."""
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"need [k, C, n, n] images, got {tuple(x.shape)}")
    a, ga = _operators_on(x.shape[-1], side, x.device)
    tile = a @ x @ a.T
    if ga is not None:
        diff = tile - ga @ x @ ga.T
        # Pillow: clip8(in + diff * percent / 100) where |diff| > threshold, on 8-bit values
        sharp = tile + diff * (SHARPEN_PERCENT / 100.0)
        tile = torch.where(diff.abs() > SHARPEN_THRESHOLD, sharp, tile)
    return tile.clamp_(0, 255).round_().to(torch.uint8).permute(0, 2, 3, 1)


ImageKey = tuple[int, int]  # (variant, image index), as in shared.plan.ImageRequest.key


@dataclass
class EventTiles:
    """An event's product tiles, scaled on a device, and what making them cost this thread."""

    tiles: dict[tuple[ImageKey, int], Image.Image]  # (image key, side) -> RGB tile
    device_ms: float = 0.0  # thread CPU in the tensor ops (on a GPU: launches, the copy back)
    host_ms: float = 0.0  # thread CPU converting images to tensors and tiles back to Pillow

    def for_creative(self, image_keys: Sequence[ImageKey]) -> Tiles:
        """The tiles of one creative, keyed as `paste_products` reads them."""
        return {
            (i, side): tile
            for (key, side), tile in self.tiles.items()
            for i, k in enumerate(image_keys)
            if k == key
        }


def tile_sides(plan: EventPlan, images: Mapping[ImageKey, Image.Image]) -> dict[ImageKey, set[int]]:
    """The tile sides each generated image is shown at in the event's creatives. Shop photos
    (RGBA cut-outs) are scaled by `scale_photo` at composition, not here."""
    sides: dict[ImageKey, set[int]] = {}
    for cp in plan.creatives:
        layout = build_layout(cp, len(cp.image_keys))
        for element in layout.elements:
            if element.image_index < 0:
                continue
            key = cp.image_keys[element.image_index]
            image = images.get(key)
            if image is None or image.mode == "RGBA":
                continue
            sides.setdefault(key, set()).add(element.box[2] - element.box[0])
    return sides


def _square(image: Image.Image) -> np.ndarray:
    img = image.convert("RGB")
    w, h = img.size
    if w != h:  # centre crop, as scale_product does
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    return np.asarray(img)


def event_tiles(
    plan: EventPlan, images: Mapping[ImageKey, Image.Image], device: torch.device | str
) -> EventTiles:
    """Every product tile the event's creatives show, made on `device`: one batched op per
    (source size, side) on a GPU; image by image on a CPU, where that is faster (the batch
    falls out of the cache). Only upscaling is done here; a tile smaller than its source is
    left to `scale_product` (Pillow's reducing_gap path)."""
    device = torch.device(device)
    out = EventTiles({})
    c0 = time.thread_time()
    groups: dict[tuple[int, int], list[ImageKey]] = {}
    sources: dict[ImageKey, np.ndarray] = {}
    for key, sides in tile_sides(plan, images).items():
        src = sources[key] = _square(images[key])
        for side in sides:
            if side >= src.shape[0]:
                groups.setdefault((src.shape[0], side), []).append(key)
    c1 = time.thread_time()
    out.host_ms += (c1 - c0) * 1000
    with torch.inference_mode():
        for (_, side), keys in sorted(groups.items()):
            c0 = time.thread_time()
            x = torch.from_numpy(np.stack([sources[k] for k in keys])).to(device)
            x = x.permute(0, 3, 1, 2).float()
            if device.type == "cpu":
                made = [upscale_tiles(x[i : i + 1], side) for i in range(len(keys))]
                arrays = [t[0].contiguous().numpy() for t in made]
            else:
                batch = upscale_tiles(x, side).contiguous().cpu().numpy()
                arrays = list(batch)
            c1 = time.thread_time()
            for key, arr in zip(keys, arrays, strict=True):
                out.tiles[(key, side)] = Image.fromarray(arr)
            c2 = time.thread_time()
            out.device_ms += (c1 - c0) * 1000
            out.host_ms += (c2 - c1) * 1000
    return out
