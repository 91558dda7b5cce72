"""Ground is the near-white connected to the border; near-white the product encloses is the
product's own (``shared.imaging_ground``, ``losses.enclosed_product``, ``colour_ground``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from shared.catalog.augment import PALETTE, SHADES, reads_as
from shared.eval.lab_colour import GROUND, lab_colour
from shared.gan.config import GANConfig
from shared.gan.losses import (
    colour_word_loss,
    colour_word_shares,
    enclosed_product,
    ground_by_growing,
    mean_chroma,
    palette_targets,
)
from shared.imaging_ground import ground
from shared.training.export import product_pixels

SIZE = 32


def _plate(fill: int = 255, outline: int = 20, size: int = SIZE) -> Image.Image:
    """A ring outline (dark) around a fill, on white: a white plate when fill is 255."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.ellipse([4, 4, size - 5, size - 5], fill=(fill,) * 3, outline=(outline,) * 3, width=2)
    return img


def _tensor(img: Image.Image) -> torch.Tensor:
    """[1, 3, H, W] in [-1, 1], as G's output."""
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0)
    return x.permute(2, 0, 1)[None]


def _random_drawing(rng: np.random.Generator, size: int) -> np.ndarray:
    """Rings, bars and blobs, some touching the border, some enclosing white."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 6))):
        x0, y0 = (int(v) for v in rng.integers(-4, size, 2))
        w, h = (int(v) for v in rng.integers(3, size, 2))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        fill = None if rng.random() < 0.5 else (255, 255, 255)
        if rng.random() < 0.5:
            d.ellipse([x0, y0, x0 + w, y0 + h], outline=colour, fill=fill, width=1)
        else:
            d.rectangle([x0, y0, x0 + w, y0 + h], outline=colour, fill=fill, width=1)
    return np.asarray(img)


def test_the_torch_rule_is_the_numpy_rule() -> None:
    rng = np.random.default_rng(0)
    drawings = np.stack([_random_drawing(rng, SIZE) for _ in range(64)])
    x = torch.from_numpy(drawings).permute(0, 3, 1, 2).float() / 255.0
    level_01 = (GROUND + 0.5) / 255.0
    product = enclosed_product(x, level=level_01)[:, 0].numpy() > 0.5
    expected = np.stack([~ground(d, GROUND) for d in drawings])
    assert product.shape == expected.shape
    assert (product == expected).all()
    # the device path (no host round trip) finds the same ground
    white = (x.amin(dim=1, keepdim=True) > level_01).float()
    assert (ground_by_growing(white)[:, 0].numpy() > 0.5).tolist() == (~expected).tolist()
    # the drawings do enclose white somewhere, and a level alone would call it ground
    level = drawings.min(axis=3) <= GROUND
    assert (product & ~level).sum() > 100


def test_a_white_plate_reads_white_by_both_readings() -> None:
    plate = np.asarray(_plate())
    inside = ~ground(plate, GROUND)
    assert inside[SIZE // 2, SIZE // 2] and not inside[0, 0]  # its fill is product, not ground
    # Enclosed white counts: the plate is white by the check and by the Lab mean; before, only
    # its outline was product and it read black.
    assert reads_as(product_pixels(_plate()), "white")
    assert lab_colour(_plate()) == "white"
    # a plate filled red stays red, a dark plate black
    assert reads_as(product_pixels(_plate(fill=0, outline=0)), "black")


def test_enclosed_white_counts_in_the_colour_terms() -> None:
    names, targets = palette_targets(PALETTE, SHADES)
    white = targets[names.index("white") : names.index("white") + 1]
    x = _tensor(_plate())
    good_level = float(colour_word_shares(x, white)[0, 0])
    good_enclosed = float(colour_word_shares(x, white, enclosed=True)[0, 0])
    assert good_level < 0.1 < 0.6 < good_enclosed  # the outline alone vs outline + fill
    # the mean chroma is over the product either way (grey plate: no chroma)
    assert float(mean_chroma(x, enclosed=True).abs().max()) < 1e-6


def test_white_lifts_grey_fill_but_leaves_the_outline_dark() -> None:
    names, targets = palette_targets(PALETTE, SHADES)
    white = targets[names.index("white") : names.index("white") + 1]
    x = _tensor(_plate(fill=140, outline=20)).requires_grad_(True)
    colour_word_loss(x, white, enclosed=True).backward()
    assert x.grad is not None
    fill, outline = x.grad[0, :, SIZE // 2, SIZE // 2], x.grad[0, :, SIZE // 2, 4]
    assert (fill < 0).all()  # descent lightens the grey fill
    # the dark outline is not pulled lighter (only the soft shares' far tails touch it)
    assert float(outline.abs().max()) < 1e-6 * float(fill.abs().max())
    # the old rule lifts the outline too
    y = _tensor(_plate(fill=140, outline=20)).requires_grad_(True)
    colour_word_loss(y, white).backward()
    assert y.grad is not None and (y.grad[0, :, SIZE // 2, 4] < 0).all()


def test_colour_ground_is_a_checked_config_field() -> None:
    assert GANConfig().colour_ground == "level"  # earlier models train as before
    assert GANConfig(colour_ground="enclosed").colour_ground == "enclosed"
    with pytest.raises(ValueError, match="colour_ground"):
        GANConfig(colour_ground="flood")


def test_a_white_product_is_outlined_only_while_its_outline_stays_dark() -> None:
    from shared.training.kind_check import outlined

    assert outlined(product_pixels(_plate(fill=255, outline=20)))
    # the faded white plate of the grids
    assert not outlined(product_pixels(_plate(fill=255, outline=200)))
    assert not outlined(product_pixels(Image.new("RGB", (SIZE, SIZE), (255, 255, 255))))


def test_white_is_read_on_the_pixels_that_are_not_dark() -> None:
    """A thin white product is mostly outline: white is read on its other pixels (as a palette
    colour on its saturated ones), in the check and in the white word's share alike; a dark
    product with a little white stays black, and nothing but outline is not white."""
    from shared.catalog.augment import visible_shade

    thin = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    d = ImageDraw.Draw(thin)
    d.rectangle([4, 4, 27, 13], fill=(235, 235, 235), outline=(30, 30, 30), width=2)  # a bar
    rgba = product_pixels(thin)
    alpha = np.asarray(rgba)[..., 3] > 128
    dark = (np.asarray(thin).max(axis=2) < 0.3 * 255) & alpha
    assert 0.4 < dark.sum() / alpha.sum() < 0.6  # outline: about half of the product
    assert visible_shade(rgba) == "white"
    names, targets = palette_targets(PALETTE, SHADES)
    white = targets[names.index("white") : names.index("white") + 1]
    assert float(colour_word_shares(_tensor(thin), white, enclosed=True)[0, 0]) > 0.8
    assert visible_shade(product_pixels(_plate(fill=40, outline=0))) == "black"
    grey = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    g = ImageDraw.Draw(grey)
    g.rectangle([4, 4, 27, 27], fill=(128, 128, 128), outline=(20, 20, 20), width=2)
    g.rectangle([12, 12, 17, 17], fill=(255, 255, 255))  # a little white inside a grey product
    assert visible_shade(product_pixels(grey)) is None
