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
