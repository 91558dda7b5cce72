"""`paste_card` blends only where the card can differ from its tile: the same pixels as
pasting the whole shadow and then the whole tile through its rounded mask."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from shared.compose.scaling import _shadow, paste_card, rounded_mask


def _reference(
    canvas: Image.Image, tile: Image.Image, xy: tuple[int, int], radius: int, shadow: int
) -> None:
    """The card as drawn before session 6: both layers whole."""
    if shadow > 0:
        pad = shadow * 3
        layer = _shadow(tile.size, radius, shadow)
        canvas.paste(Image.new("RGB", layer.size, (40, 20, 90)), (xy[0] - pad, xy[1] - pad), layer)
    canvas.paste(tile, xy, rounded_mask(tile.size, radius))


def _noise(size: tuple[int, int], seed: int) -> Image.Image:
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


@pytest.mark.parametrize("side", [6, 9, 20, 41, 124, 333, 500])
@pytest.mark.parametrize("shadow", [0, 1, 4, 6])
def test_card_pixels_equal_pasting_both_layers_whole(side: int, shadow: int) -> None:
    radius = max(2, side // 10)
    tile = _noise((side, side), side)
    ground = _noise((640, 560), 7)
    # inside, over the edges of the canvas, and two cards overlapping
    spots = [(30, 40), (-side // 2, -side // 3), (640 - side // 2, 560 - side // 4)]
    spots.append((spots[0][0] + side // 2, spots[0][1] + 2))
    ours, ref = ground.copy(), ground.copy()
    for xy in spots:
        paste_card(ours, tile, xy, radius, shadow, (40, 20, 90))
        _reference(ref, tile, xy, radius, shadow)
    assert ours.tobytes() == ref.tobytes()
