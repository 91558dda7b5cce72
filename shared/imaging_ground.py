"""What is ground in a picture drawn on a plain canvas: the near-ground pixels connected to its
border. Enclosed ones are the product's own (a plate, a kimono's fill, a white shoe's upper).

A brightness threshold alone calls every near-white pixel ground, so a white product drawn on
white keeps only its outline as "product" and the colour checks, the Lab reading and the colour
losses all ask that outline to be white (docs/gan.md, session 13). The catalog's own pictures
carry an alpha that keeps enclosed white as product; generated pictures have none, so they are
read the way a border matte cuts a shop's photo (`shared.photos.cutout`): near-ground pixels
connected to the border (8-neighbourhood) are ground, everything else is product.

`shared.gan.losses.enclosed_product` is the same rule in torch (batched, on the device), tested
equal to `ground` here.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_EIGHT = np.ones((3, 3), dtype=bool)


def connected_to(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The parts of `mask` connected (8-neighbourhood) to any True pixel of `seeds`."""
    labels, count = ndimage.label(mask, structure=_EIGHT)
    keep = np.zeros(count + 1, dtype=bool)
    keep[labels[seeds & mask]] = True
    keep[0] = False
    return np.asarray(keep[labels])


def border_frame(shape: tuple[int, int], width: int = 1) -> np.ndarray:
    """A boolean frame `width` pixels wide around an array of `shape`."""
    edge = np.zeros(shape, dtype=bool)
    edge[:width], edge[-width:], edge[:, :width], edge[:, -width:] = True, True, True, True
    return edge


def ground(rgb: np.ndarray, level: int) -> np.ndarray:
    """[H, W] bool: pixels of `rgb` ([H, W, 3] uint8) whose every channel is above `level` and
    that connect to the picture's border through such pixels."""
    near_white = rgb.min(axis=2) > level
    return connected_to(near_white, border_frame(near_white.shape))
