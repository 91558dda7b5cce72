from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.storage import FileStore, S3Store, StorageError, check_key, open_store, redact_url


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


# --- S3Store.put: the lean SigV4 PUT ---------------------------------------------------------


def test_sigv4_put_headers_match_the_minio_sdk_signer() -> None:
    """Our signer against an independent implementation (the MinIO SDK's) on the same request:
    same canonical request, scope and signature, for a key that needs URI-encoding."""
    from datetime import UTC, datetime
    from urllib.parse import quote, urlsplit

    from minio.credentials import Credentials
    from minio.signer import sign_v4_s3

    from shared.storage import UNSIGNED_PAYLOAD, sigv4_put_headers

    now = datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)
    path = "/bucket/" + quote("creatives/c 1/e+x/ü.png", safe="/")
    for payload in ("a" * 64, UNSIGNED_PAYLOAD):
        ours = sigv4_put_headers(
            host="127.0.0.1:9000",
            path=path,
            access_key="AKID",
            secret_key="secret/+key",
            region="eu-central-1",
            content_type="image/png",
            length=3,
            payload_hash=payload,
            now=now,
        )
        theirs = sign_v4_s3(
            method="PUT",
            url=urlsplit("http://127.0.0.1:9000" + path),
            region="eu-central-1",
            headers={
                "Host": "127.0.0.1:9000",
                "x-amz-content-sha256": payload,
                "x-amz-date": "20261201T030405Z",
            },
            credentials=Credentials("AKID", "secret/+key"),
            content_sha256=payload,
            date=now,
        )
        assert ours["Authorization"] == theirs["Authorization"]
        assert ours["x-amz-date"] == "20261201T030405Z"
        assert ours["Content-Type"] == "image/png" and ours["Content-Length"] == "3"


class _FakeS3:
    """A local HTTP server that answers PUTs from a script of statuses (and GetBucketLocation),
    keeping what it received; `close_after` makes it drop the keep-alive connection."""

    def __init__(self, statuses: list[int], close_after: bool = False) -> None:
        import http.server
        import threading

        self.statuses, self.requests = list(statuses), list[tuple[str, str, dict[str, str]]]()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # GetBucketLocation
                body = b'<?xml version="1.0"?><LocationConstraint></LocationConstraint>'
                self._reply(200, body)

            def do_PUT(self) -> None:
                n = int(self.headers["Content-Length"])
                fake.requests.append(
                    (self.path, self.rfile.read(n).decode(), dict(self.headers.items()))
                )
                status = fake.statuses.pop(0) if fake.statuses else 200
                body = (
                    b""
                    if status == 200
                    else b"<Error><Code>%s</Code><Message>m</Message></Error>"
                    % (b"AccessDenied" if status == 403 else b"SlowDown")
                )
                self._reply(status, body)
                if close_after:
                    self.close_connection = True

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def store(self) -> S3Store:
        store = open_store(f"s3://key:secret@127.0.0.1:{self.port}/b")
        assert isinstance(store, S3Store)
        return store

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.storage.BACKOFF_S", 0.0)


def test_put_sends_signed_body_and_content_type() -> None:
    fake = _FakeS3([])
    try:
        fake.store().put("creatives/c/e/a b.png", b"abc", "image/png")
        [(path, body, headers)] = fake.requests
        assert path == "/b/creatives/c/e/a%20b.png" and body == "abc"
        assert headers["Content-Type"] == "image/png"
        # plain HTTP: the body's hash is signed, as the SDK does
        assert headers["x-amz-content-sha256"] == hashlib.sha256(b"abc").hexdigest()
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=key/")
    finally:
        fake.close()


def test_put_retries_server_errors_then_succeeds(no_backoff: None) -> None:
    fake = _FakeS3([503, 500])
    try:
        fake.store().put("k/1.png", b"x", "image/png")
        assert len(fake.requests) == 3
    finally:
        fake.close()


def test_put_gives_up_after_retries_with_a_storage_error(no_backoff: None) -> None:
    fake = _FakeS3([503] * 10)
    try:
        with pytest.raises(StorageError, match="SlowDown"):
            fake.store().put("k/1.png", b"x", "image/png")
        assert len(fake.requests) == 4  # the first try and three retries
    finally:
        fake.close()


def test_put_refusal_is_permanent_and_not_retried(no_backoff: None) -> None:
    from minio.error import S3Error

    fake = _FakeS3([403])
    try:
        with pytest.raises(S3Error) as info:
            fake.store().put("k/1.png", b"x", "image/png")
        assert info.value.code == "AccessDenied" and len(fake.requests) == 1
    finally:
        fake.close()


def test_put_reconnects_when_the_server_closes_keep_alive() -> None:
    fake = _FakeS3([], close_after=True)
    try:
        store = fake.store()
        for i in range(3):
            store.put(f"k/{i}.png", b"x", "image/png")
        assert [p for p, _, _ in fake.requests] == [f"/b/k/{i}.png" for i in range(3)]
    finally:
        fake.close()


def test_each_thread_has_its_own_connection() -> None:
    import threading

    fake = _FakeS3([])
    try:
        store = fake.store()
        conns: list[object] = []

        def put(i: int) -> None:
            store.put(f"k/{i}.png", b"x", "image/png")
            conns.append(store._local.conn)

        threads = [threading.Thread(target=put, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(fake.requests) == 4 and len({id(c) for c in conns}) == 4
    finally:
        fake.close()
