"""The second colour reading on pictures whose colour is known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from shared.catalog.augment import PALETTE, visible_colour
from shared.eval.lab_colour import lab_colour, srgb_to_lab


def _picture(rgb: tuple[int, int, int], share: float = 0.5) -> Image.Image:
    """64x64 white ground; a square of ``rgb`` covering ``share`` of the picture's rows."""
    a = np.full((64, 64, 3), 255, np.uint8)
    a[: int(64 * share), :32] = rgb
    return Image.fromarray(a)


def test_lab_matches_published_values() -> None:
    lab = srgb_to_lab(np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]))
    assert lab[0] == pytest.approx([53.24, 80.09, 67.20], abs=0.05)
    assert lab[1] == pytest.approx([100.0, 0.0, 0.0], abs=0.05)
    assert lab[2] == pytest.approx([0.0, 0.0, 0.0], abs=0.05)


@pytest.mark.parametrize("word", list(PALETTE))
def test_each_palette_centre_reads_as_its_word(word: str) -> None:
    hue = PALETTE[word][0] % 360 / 360
    r, g, b = Image.new("HSV", (1, 1), (round(hue * 255), 230, 240)).convert("RGB").getpixel((0, 0))  # type: ignore[misc]
    assert lab_colour(_picture((r, g, b))) == word


def test_white_ground_and_grey_products_name_no_colour() -> None:
    assert lab_colour(Image.new("RGB", (64, 64), "white")) is None
    assert lab_colour(_picture((128, 128, 128))) is None


def test_dark_orange_reads_brown() -> None:
    assert lab_colour(_picture((110, 55, 10))) == "brown"


def test_dull_parts_count_where_the_check_ignores_them() -> None:
    """Where it parts from the check: a third of the product vivid blue, the rest a dull olive
    below the check's saturation floor. The check sees only the blue pixels and names blue;
    the mean colour of the whole product is near grey."""
    a = np.full((64, 64, 3), (150, 170, 110), np.uint8)
    a[:, :22] = (40, 90, 250)
    image = Image.fromarray(a)
    assert visible_colour(image.convert("RGBA")) == "blue"
    assert lab_colour(image) is None


def test_dark_and_light_products_with_little_chroma_read_black_and_white() -> None:
    """Black and white by mean lightness; a white product shows as light grey on our ground
    (its pure-white pixels are ground), and a mid grey names nothing."""
    assert lab_colour(_picture((25, 25, 30))) == "black"
    assert lab_colour(_picture((212, 212, 216))) == "white"
    assert lab_colour(_picture((128, 128, 128))) is None
    assert lab_colour(_picture((110, 55, 10))) == "brown"  # dark but coloured: not black
