"""The storage side: uploads are validated and content addressed; fetches are size-checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.photos.fetch import fetch_photo
from shared.photos.load import PhotoLimits, PhotoRejection, PhotoResult
from shared.photos.upload import upload_photos
from shared.storage import FileStore
from tests.unit.photos import hostile

LIMITS = PhotoLimits()


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    s = FileStore(tmp_path / "objects")
    s.ensure_bucket()
    return s


def _files(tmp_path: Path) -> Path:
    d = tmp_path / "photos"
    (d / "sub").mkdir(parents=True)
    (d / "shoe.jpg").write_bytes(hostile.encode(hostile.product_on_white(120), "JPEG"))
    (d / "sub" / "bag.png").write_bytes(hostile.encode(hostile.product_on_white(90)))
    (d / "readme.txt").write_text("not a photo")
    (d / "bomb.png").write_bytes(hostile.png_claiming(50_000, 50_000))
    with open(d / "huge.jpg", "wb") as f:  # 100 MB, sparse: costs no disk and is never read
        f.truncate(100 * 1024 * 1024)
    return d


def test_upload_validates_each_file_and_is_idempotent(tmp_path: Path, store: FileStore) -> None:
    d = _files(tmp_path)
    results = {Path(r.path).name: r for r in upload_photos(store, [d], LIMITS)}
    assert results["shoe.jpg"].key and results["bag.png"].key
    assert "not an image" in results["readme.txt"].reason
    assert "decompression bomb" in results["bomb.png"].reason
    assert "104857600 bytes exceeds" in results["huge.jpg"].reason
    assert store.list("catalog/") == sorted([results["shoe.jpg"].key, results["bag.png"].key])
    again = list(upload_photos(store, [d / "shoe.jpg"], LIMITS))
    assert again[0].key == results["shoe.jpg"].key and again[0].already_there


def test_fetch_decodes_and_cuts_out(tmp_path: Path, store: FileStore) -> None:
    (key,) = [r.key for r in upload_photos(store, [_files(tmp_path) / "shoe.jpg"], LIMITS)]
    assert key is not None
    got = fetch_photo(store, key, LIMITS)
    assert isinstance(got, PhotoResult) and got.key == key and got.matte == "border"
    assert got.image.mode == "RGBA" and got.image.getpixel((0, 0))[3] == 0


def test_fetch_refuses_missing_oversized_and_outside_keys(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = fetch_photo(store, "catalog/none/x.png", LIMITS)
    assert isinstance(missing, PhotoRejection) and "no such photo" in missing.reason
    path = store.root / "catalog" / "big" / "x.png"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    monkeypatch.setattr(store, "get", lambda key: pytest.fail("must not download"))
    big = fetch_photo(store, "catalog/big/x.png", LIMITS)
    assert isinstance(big, PhotoRejection) and "exceeds" in big.reason
    outside = fetch_photo(store, "creatives/c/e/x.png", LIMITS)
    assert isinstance(outside, PhotoRejection) and "catalog/" in outside.reason


def test_fetch_of_a_bad_file_under_a_catalog_key_is_a_rejection(store: FileStore) -> None:
    data = hostile.encode(hostile.product_on_white(64))
    store.put("catalog/cut/x.png", data[: len(data) // 2], "image/png")
    got = fetch_photo(store, "catalog/cut/x.png", LIMITS)
    assert isinstance(got, PhotoRejection) and "truncated" in got.reason
