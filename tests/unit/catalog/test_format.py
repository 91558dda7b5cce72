"""The catalog directory format: metadata round trip, splits, image loading."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from shared.catalog.format import (
    CatalogItem,
    load_catalog,
    load_image,
    split_for,
    write_metadata,
)


def test_round_trip_and_split_filter(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    Image.new("RGBA", (40, 20), (255, 0, 0, 0)).save(tmp_path / "images" / "a.png")
    Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / "images" / "b.png")
    items = [
        CatalogItem("images/a.png", ["red thing", "thing"], "toys", "train", "thing", "noto"),
        CatalogItem("images/b.png", ["blue mug"], "household", "test"),
    ]
    write_metadata(tmp_path, items)
    loaded = load_catalog(tmp_path)
    assert loaded == items and loaded[0].root == tmp_path
    assert [i.file_name for i in load_catalog(tmp_path, "test")] == ["images/b.png"]
    assert "concept" not in (tmp_path / "metadata.jsonl").read_text().splitlines()[1]
    # Transparent pixels become white; non-square images are padded, then resized.
    image = load_image(loaded[0], 16)
    assert image.mode == "RGB" and image.size == (16, 16)
    assert image.getpixel((8, 1)) == (255, 255, 255)
    assert load_image(tmp_path / "images" / "b.png", 4).getpixel((2, 2)) == (0, 0, 255)


def test_missing_captions_rejected(tmp_path: Path) -> None:
    (tmp_path / "metadata.jsonl").write_text('{"file_name": "images/x.png", "captions": []}\n')
    with pytest.raises(ValueError):
        load_catalog(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_split_is_deterministic(concept: str) -> None:
    assert split_for(concept) == split_for(concept) in ("train", "val", "test")


def test_split_proportions() -> None:
    splits = [split_for(f"concept {i}") for i in range(5000)]
    for name, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(splits.count(name) / len(splits) - share) < 0.03
