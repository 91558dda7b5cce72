"""Product tiles as tensor ops look like Pillow's `scale_product` (rounding apart)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from shared.compose.parts_cache import PartsCache, compose_cached
from shared.compose.scaling import scale_product
from shared.compose.upscale import (
    _blur_radius,
    box_matrix,
    event_tiles,
    resample_matrix,
    tile_sides,
    upscale_tiles,
)
from shared.personalize import plan_event
from shared.samples import sample_events
from tests.unit.compose.helpers import event_with, images_for


def _smooth(size: int, seed: int) -> np.ndarray:
    """A smooth RGB image (no overshoot for Pillow to clip between its passes)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    chans = [
        128 + 60 * np.sin(2 * np.pi * (rng.uniform(0.5, 2) * x + rng.uniform(0.5, 2) * y))
        for _ in range(3)
    ]
    return np.stack(chans, axis=-1).round().astype(np.uint8)


def _apply(m: np.ndarray, img: np.ndarray) -> np.ndarray:
    x = img.astype(np.float64).transpose(2, 0, 1)  # [C, H, W]
    return (m @ x @ m.T).transpose(1, 2, 0)


@pytest.mark.parametrize(("n_in", "n_out"), [(64, 128), (128, 256), (256, 173), (512, 420)])
def test_resample_matrix_is_pillows_lanczos(n_in: int, n_out: int) -> None:
    img = _smooth(n_in, n_in)
    ref = np.asarray(Image.fromarray(img).resize((n_out, n_out), Image.Resampling.LANCZOS))
    mine = _apply(resample_matrix(n_in, n_out), img)
    # Pillow rounds to 8 bits between its two passes (the second pass can grow that to ~0.6)
    assert np.abs(mine - ref).max() <= 1.5


@pytest.mark.parametrize("radius", [0.8, 2.5, 5.3])
def test_box_matrix_cubed_is_pillows_gaussian_blur(radius: float) -> None:
    img = np.random.default_rng(3).integers(0, 256, (90, 90, 3)).astype(np.uint8)
    ref = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))
    blur = np.linalg.matrix_power(box_matrix(90, _blur_radius(radius, 3)), 3)
    # Pillow rounds to 8 bits after each of its six passes; a wrong radius is off by far more
    assert np.abs(_apply(blur, img) - ref).max() <= 2.0


def _product_images() -> list[Image.Image]:
    event = event_with("recommendation")
    plan = plan_event(event).creatives[0]
    return images_for(plan, event)


@pytest.mark.parametrize("side", [64, 90, 150, 237, 420, 700])
def test_tiles_match_scale_product(side: int) -> None:
    images = _product_images()
    x = torch.from_numpy(np.stack([np.asarray(im) for im in images])).permute(0, 3, 1, 2)
    tiles = upscale_tiles(x.float(), side).numpy().astype(np.float64)
    ref = np.stack([np.asarray(scale_product(im, side)) for im in images])
    assert tiles.shape == ref.shape
    mse = ((tiles - ref) ** 2).mean()
    # Pillow rounds and clips after every pass; the matrices do not. Invisible at > 45 dB
    # (bench/tiles_look.py shows the creatives); an error in the chain costs 20 dB or more.
    assert mse == 0 or 10 * np.log10(255**2 / mse) > 45
    assert (np.abs(tiles - ref) > 8).mean() < 0.005


def test_batched_and_single_tiles_agree() -> None:
    images = _product_images()
    x = torch.from_numpy(np.stack([np.asarray(im) for im in images])).permute(0, 3, 1, 2)
    batch = upscale_tiles(x.float(), 300)
    single = torch.cat([upscale_tiles(x[i : i + 1].float(), 300) for i in range(len(images))])
    assert (batch.int() - single.int()).abs().max() <= 1


def test_event_tiles_cover_every_generated_image_at_every_side() -> None:
    event = sample_events("tiles", count=2, sizes=["300x250", "1080x1080", "320x50"])[1]
    plan = plan_event(event)
    images = {
        k: im
        for cp in plan.creatives
        for k, im in zip(cp.image_keys, images_for(cp, event), strict=True)
    }
    made = event_tiles(plan, images, "cpu")
    sides = tile_sides(plan, images)
    expected = {(k, s) for k, ss in sides.items() for s in ss if s >= 64}
    assert set(made.tiles) == expected and expected
    for (_, side), tile in made.tiles.items():
        assert tile.size == (side, side) and tile.mode == "RGB"
    # Composed with them, creatives look like Pillow's (and keep every other pixel).
    cache = PartsCache()
    for cp in plan.creatives:
        shown = [images[k] for k in cp.image_keys]
        a = np.asarray(compose_cached(cp, shown, event, cache=cache)).astype(np.float64)
        b = np.asarray(
            compose_cached(cp, shown, event, cache=cache, tiles=made.for_creative(cp.image_keys))
        )
        mse = ((a - b) ** 2).mean()
        assert mse == 0 or 10 * np.log10(255**2 / mse) > 45


def test_photo_cutouts_are_left_to_composition() -> None:
    event = sample_events("tiles", count=1, sizes=["300x250"])[0]
    plan = plan_event(event)
    images = {
        r.key: Image.new("RGBA", (64, 64), (200, 30, 30, 255))
        if i == 0
        else Image.new("RGB", (64, 64))
        for i, r in enumerate(plan.images)
    }
    sides = tile_sides(plan, images)
    assert plan.images[0].key not in sides
