from __future__ import annotations

from pathlib import Path

import pytest

from shared.storage import FileStore, check_key, open_store, redact_url


def test_file_store_round_trip(tmp_path: Path) -> None:
    store = open_store((tmp_path / "objs").as_uri())
    assert isinstance(store, FileStore)
    store.ensure_bucket()
    store.put("creatives/c/e/1.png", b"abc", "image/png")
    assert store.get("creatives/c/e/1.png") == b"abc"
    assert store.exists("creatives/c/e/1.png") and not store.exists("creatives/c/e/2.png")
    assert store.list("creatives/c/") == ["creatives/c/e/1.png"]
    assert store.url("creatives/c/e/1.png", 60).startswith("file://")


@pytest.mark.parametrize("key", ["../x", "/abs", "a/../../b", "a\\b", "a//b", "a/./b", "x\x00"])
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)


def test_redact_url_hides_password() -> None:
    assert redact_url("s3://k:supersecret@h:9000/b") == "s3://k:***@h:9000/b"
    assert "supersecret" not in redact_url("amqp://u:supersecret@rabbit:5672//")


def test_s3_url_needs_bucket() -> None:
    with pytest.raises(ValueError, match="bucket"):
        open_store("s3://k:s@127.0.0.1:9000/")


def test_threads_writing_one_key_do_not_collide(tmp_path: Path) -> None:
    """A redelivery racing the first delivery in one threads-pool process writes the same
    object: each put must finish, and the object holds one of the writes whole."""
    import threading

    store = open_store((tmp_path / "objs").as_uri())
    store.ensure_bucket()
    errors: list[BaseException] = []
    gate = threading.Barrier(6)

    def put(i: int) -> None:
        gate.wait()
        try:
            for _ in range(40):
                store.put("creatives/c/e/1.png", bytes([i]) * 4096, "image/png")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    data = store.get("creatives/c/e/1.png")
    assert len(set(data)) == 1 and len(data) == 4096
