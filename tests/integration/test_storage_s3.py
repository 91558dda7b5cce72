"""S3Store against the real S3 server (SeaweedFS): the lean signed PUT is accepted, stores
the bytes and the content type, and its errors keep their meaning."""

from __future__ import annotations

import threading
import uuid

import pytest
from minio.error import S3Error

from shared.storage import S3Store, StorageError, open_store
from tests.support.services import S3_KEY, S3_SECRET, SeaweedS3


def _store(seaweed: SeaweedS3) -> S3Store:
    store = open_store(seaweed.url(f"st{uuid.uuid4().hex[:12]}"))
    assert isinstance(store, S3Store)
    store.ensure_bucket()
    return store


def test_put_round_trip_with_content_type(seaweed: SeaweedS3) -> None:
    store = _store(seaweed)
    body = bytes(range(256)) * 300  # ~77 KB, a creative's size
    keys = ["creatives/c/e/1.png", "creatives/c/e/with space+plus ü.jpg"]
    for key, kind in zip(keys, ("image/png", "image/jpeg"), strict=True):
        store.put(key, body, kind)
        assert store.get(key) == body
        stat = store.client.stat_object(store.bucket, key)
        assert stat.content_type == kind and stat.size == len(body)
    store.put(keys[0], b"second", "image/png")  # overwrite on the same keep-alive connection
    assert store.get(keys[0]) == b"second"
    assert store.list("creatives/c/") == sorted(keys)


def test_put_from_many_threads(seaweed: SeaweedS3) -> None:
    store = _store(seaweed)
    errors: list[BaseException] = []

    def put(i: int) -> None:
        try:
            for j in range(10):
                store.put(f"t/{i}/{j}.png", bytes([i, j]) * 1000, "image/png")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.list("t/")) == 60
    assert store.get("t/5/9.png") == bytes([5, 9]) * 1000


def test_wrong_secret_is_a_storage_error_without_the_secret(seaweed: SeaweedS3) -> None:
    good = _store(seaweed)
    bad = open_store(f"s3://{S3_KEY}:not-{S3_SECRET}@127.0.0.1:{seaweed.port}/{good.bucket}")
    assert isinstance(bad, S3Store)
    # The region as the good store found it, so the refused request is the signed PUT itself
    # (not the SDK's region lookup, which a wrong secret fails first).
    bad._region = good._bucket_region()
    with pytest.raises(StorageError, match="SignatureDoesNotMatch") as info:
        bad.put("a/b.png", b"x", "image/png")
    assert f"not-{S3_SECRET}" not in str(info.value)
    assert not good.exists("a/b.png")


def test_missing_bucket_is_refused_for_good(seaweed: SeaweedS3) -> None:
    store = open_store(seaweed.url(f"nobucket{uuid.uuid4().hex[:8]}"))
    with pytest.raises(S3Error) as info:
        store.put("a/b.png", b"x", "image/png")
    assert info.value.code == "NoSuchBucket"
