"""The default catalog builder on a few concepts, and the colour-honest augmentations."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from shared.catalog import augment
from shared.catalog.builder import build_catalog
from shared.catalog.concepts import EMOJI_TEST, SUBGROUP_CATEGORY, load_concepts
from shared.catalog.format import load_catalog, load_image

needs_emoji_test = pytest.mark.skipif(not EMOJI_TEST.exists(), reason="unicode-data missing")
CATEGORIES = {
    "clothing and accessories",
    "shoes",
    "bags",
    "jewellery",
    "cosmetics",
    "food and drink",
    "household",
    "electronics",
    "sport",
    "toys",
    "tools",
    "office",
}


@needs_emoji_test
def test_concepts_are_products_with_captions() -> None:
    concepts = load_concepts()
    assert 350 <= len(concepts) <= 500
    assert {c.category for c in concepts} <= CATEGORIES
    assert set(SUBGROUP_CATEGORY.values()) <= CATEGORIES
    by_name = {c.name: c for c in concepts}
    assert by_name["handbag"].category == "bags"
    assert by_name["running shoe"].category == "shoes"
    assert "high-heeled shoe" in by_name
    assert all(c.captions and c.captions[0] == c.name for c in concepts)
    assert not any("skin tone" in c.name for c in concepts)


@needs_emoji_test
def test_build_small_catalog(tmp_path: Path) -> None:
    summary = build_catalog(tmp_path, size=32, limit=6, augment=True, seed=0)
    items = load_catalog(tmp_path)
    assert summary.concepts == 6 and summary.images == len(items) > 12
    for item in items:
        assert item.path.exists() and item.captions and item.category in CATEGORIES
        assert item.split in ("train", "val", "test") and item.style in ("openmoji", "noto")
        assert load_image(item, 32).size == (32, 32)
    # All variants of a concept share its split; the build is deterministic.
    splits: dict[str | None, set[str]] = {}
    for item in items:
        splits.setdefault(item.concept, set()).add(item.split)
    assert all(len(s) == 1 for s in splits.values())
    first = (tmp_path / "metadata.jsonl").read_text()
    build_catalog(tmp_path / "again", size=32, limit=6, augment=True, seed=0)
    assert (tmp_path / "again" / "metadata.jsonl").read_text() == first


def _cutout(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([4, 4, 27, 27], fill=colour + (255,), outline=(0, 0, 0, 255))
    return image


@pytest.mark.parametrize("target", list(augment.PALETTE))
def test_recolour_names_what_is_visible(target: str) -> None:
    out = augment.recolour(_cutout((220, 40, 40)), target)
    assert out is not None and augment.visible_colour(out) == target


def test_no_colour_word_for_grey_or_brown() -> None:
    assert augment.visible_colour(_cutout((128, 128, 128))) is None
    assert augment.visible_colour(_cutout((120, 70, 30))) == "brown"
    assert augment.recolour(_cutout((128, 128, 128)), "red") is None


def test_with_colour_rewrites_captions() -> None:
    assert augment.with_colour("green apple", "red") == "red apple"
    assert augment.with_colour("handbag", "blue") == "blue handbag"
    assert augment.with_colour("orange", "green") == "green orange"


def test_place_and_jitter_keep_size() -> None:
    import random

    cut = _cutout((0, 0, 255))
    assert augment.place(cut, 64).size == (64, 64)
    assert augment.jitter(cut, 64, random.Random(0)).size == (64, 64)
    assert augment.on_background(cut, (10, 20, 30)).getpixel((0, 0)) == (10, 20, 30)


def test_missing_emoji_test_names_the_package(tmp_path: Path) -> None:
    from shared.catalog.builder import build_catalog
    from shared.catalog.concepts import MissingSystemData

    with pytest.raises(MissingSystemData) as err:
        build_catalog(tmp_path / "out", emoji_test=tmp_path / "absent.txt")
    assert "unicode-data" in str(err.value) and "apt-get install -y unicode-data" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing half-built


def test_data_build_cli_says_one_line_on_missing_emoji_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from shared.catalog import concepts
    from workers.cli.main import app

    monkeypatch.setattr(concepts, "EMOJI_TEST", tmp_path / "absent.txt")
    result = CliRunner().invoke(app, ["data", "build", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "unicode-data" in lines[0] and "apt-get install -y unicode-data" in lines[0]
