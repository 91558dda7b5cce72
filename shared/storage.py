"""Object storage: S3 (any S3 server: MinIO, SeaweedFS) or a local directory, behind one interface.

Objects are private. Readers without credentials get presigned GET URLs with a bounded expiry.

`S3Store.put` is the worker's per-creative call, so it is sent lean: a SigV4-signed PUT
(`sigv4_put_headers`, the AWS spec) over one keep-alive `http.client` connection per thread,
with the retries the SDK's HTTP pool had. Against SeaweedFS with the standard event's creatives
(`python -m bench.storage_put`, bench/RESULTS.md session 6) it costs half the thread CPU of the
MinIO SDK's `put_object` (0.48 vs 1.01 ms), most of which was urllib3's request machinery.
Everything else (get, stat, list, presigned URLs, buckets) is rare and goes through the SDK.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import posixpath
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import quote, unquote, urlsplit

import urllib3
from minio import Minio
from minio.error import S3Error


class StorageError(Exception):
    """A storage operation failed in a way worth retrying (network, server unavailable)."""


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int | None: ...
    def list(self, prefix: str) -> list[str]: ...
    def url(self, key: str, expiry_s: int) -> str: ...
    def ensure_bucket(self) -> None: ...


def check_key(key: str) -> str:
    """Keys are relative, normalised paths: no '..', no leading '/', no backslashes."""
    norm = posixpath.normpath(key)
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or norm != key
        or norm.startswith("..")
        or any(ord(c) < 32 for c in key)
    ):
        raise ValueError(f"unsafe object key {key!r}")
    return key


def redact_url(url: str) -> str:
    """The URL with its password replaced, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def ensure_bucket(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unique per writer: two threads of one worker may write the same key at once (a
        # redelivered event running beside its first delivery); a per-pid name made them race.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: readers never see half a PNG

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        """Bytes of the object (None if absent), without reading it."""
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None

    def list(self, prefix: str) -> list[str]:
        base = self.root
        return sorted(
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file()
            and not p.name.startswith(".")
            and p.relative_to(base).as_posix().startswith(prefix)
        )

    def url(self, key: str, expiry_s: int) -> str:
        return self._path(key).resolve().as_uri()


# --- SigV4 for PUT (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, day: str, region: str) -> bytes:
    """The day's derived key: four HMACs, once per (secret, day, region)."""
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sigv4_put_headers(
    *,
    host: str,
    path: str,
    access_key: str,
    secret_key: str,
    region: str,
    content_type: str,
    length: int,
    payload_hash: str,
    now: datetime,
) -> dict[str, str]:
    """The headers of a SigV4-signed `PUT path` (path already URI-encoded, query-less).
    `payload_hash`: the body's hex SHA-256, or UNSIGNED_PAYLOAD."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    canonical = (
        f"PUT\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payload_hash}\n"
        f"x-amz-date:{stamp}\n\n{_SIGNED_HEADERS}\n{payload_hash}"
    )
    to_sign = (
        f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = _signing_key(secret_key, stamp[:8], region)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "Host": host,
        "Content-Type": content_type,
        "Content-Length": str(length),
        "x-amz-date": stamp,
        "x-amz-content-sha256": payload_hash,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
            f"SignedHeaders={_SIGNED_HEADERS}, Signature={signature}"
        ),
    }


# As the SDK's urllib3 pool was set up: 3 retries for broken connections and these statuses,
# sleeping 0, 0.6, 1.2 s (urllib3's backoff with factor 0.3); connect within 5 s, read 30 s.
RETRY_STATUSES = frozenset({500, 502, 503, 504})
PUT_RETRIES = 3
BACKOFF_S = 0.3
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
# Refusals that no retry changes; any other error is a StorageError (the task retries).
PERMANENT_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied"})


def _backoff(retry: int) -> float:
    return 0.0 if retry <= 1 else BACKOFF_S * 2 ** (retry - 1)


class S3Store:
    def __init__(
        self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool = False
    ) -> None:
        # Short timeouts and a few quick urllib3 retries; longer outages surface as StorageError
        # and the task retries with backoff.
        http = urllib3.PoolManager(
            maxsize=32,  # one connection per worker thread, not one for all
            timeout=urllib3.Timeout(connect=5, read=30),
            retries=urllib3.Retry(
                total=3, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504)
            ),
        )
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http
        )
        self.bucket = bucket
        self.endpoint = endpoint
        self.secure = secure
        self._keys = (access_key, secret_key)
        self._region: str | None = None
        self._local = threading.local()  # this thread's keep-alive connection for put

    def _call(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchBucket", "AccessDenied"):
                raise
            raise StorageError(f"S3 {exc.code} at {self.endpoint}: {exc.message}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageError(f"S3 unreachable at {self.endpoint}: {exc}") from exc

    def ensure_bucket(self) -> None:
        if not self._call(self.client.bucket_exists, self.bucket):
            try:
                self._call(self.client.make_bucket, self.bucket)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = f"/{self.bucket}/{quote(check_key(key), safe='/')}"
        # Like the SDK: the body is hashed into the signature over plain HTTP (integrity on a
        # cleartext link, ~0.05 ms per 60 KB); over TLS the channel protects it already.
        payload = UNSIGNED_PAYLOAD if self.secure else hashlib.sha256(data).hexdigest()
        failure = ""
        for attempt in range(PUT_RETRIES + 1):
            if attempt:
                time.sleep(_backoff(attempt))
            # Signed per attempt: a retry after a long backoff stays inside the 15-minute window.
            headers = sigv4_put_headers(
                host=self.endpoint,
                path=path,
                access_key=self._keys[0],
                secret_key=self._keys[1],
                region=self._bucket_region(),
                content_type=content_type,
                length=len(data),
                payload_hash=payload,
                now=datetime.now(UTC),
            )
            try:
                status, body = self._send("PUT", path, data, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()  # a stale keep-alive socket or the server gone
                failure = f"S3 unreachable at {self.endpoint}: {exc!r}"
                continue
            if 200 <= status < 300:
                return
            code, message = _error_code(body, status)
            if status in RETRY_STATUSES:
                failure = f"S3 {code} at {self.endpoint}: {message}"
                continue
            if code in PERMANENT_CODES:
                raise S3Error(cast(Any, None), code, message, path, None, None, self.bucket, key)
            raise StorageError(f"S3 {code} at {self.endpoint}: {message}")
        raise StorageError(failure)

    def _bucket_region(self) -> str:
        """The bucket's region, asked once (GetBucketLocation) as the SDK does."""
        if self._region is None:
            self._region = str(self._call(self.client._get_region, self.bucket))
        return self._region

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        # New thread, or a forked child: never share a parent's socket.
        cls = http.client.HTTPSConnection if self.secure else http.client.HTTPConnection
        conn = cls(self.endpoint, timeout=CONNECT_TIMEOUT_S)  # "host:port", as the Host header
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _send(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        conn = self._connection()
        if conn.sock is None:  # (re)connect with the connect timeout, then allow slow reads
            conn.connect()
            cast(Any, conn.sock).settimeout(READ_TIMEOUT_S)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()  # read it all, or the connection cannot carry the next request
        if resp.will_close:
            self._drop_connection()
        return resp.status, data

    def get(self, key: str) -> bytes:
        resp = self._call(self.client.get_object, self.bucket, check_key(key))
        try:
            return bytes(resp.read())
        finally:
            resp.close()
            resp.release_conn()

    def exists(self, key: str) -> bool:
        try:
            self._call(self.client.stat_object, self.bucket, check_key(key))
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise

    def size(self, key: str) -> int | None:
        """Bytes of the object (None if absent), without downloading it."""
        try:
            stat = self._call(self.client.stat_object, self.bucket, check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return None
            raise
        return int(stat.size or 0)

    def list(self, prefix: str) -> list[str]:
        objs = self._call(
            lambda: list(self.client.list_objects(self.bucket, prefix=prefix, recursive=True))
        )
        return sorted(o.object_name for o in objs)

    def url(self, key: str, expiry_s: int) -> str:
        return str(
            self._call(
                self.client.presigned_get_object,
                self.bucket,
                check_key(key),
                expires=timedelta(seconds=expiry_s),
            )
        )


def _error_code(body: bytes, status: int) -> tuple[str, str]:
    """(Code, Message) of an S3 XML error body; the HTTP status when there is none."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return f"HTTP{status}", body[:200].decode(errors="replace")
    return root.findtext("Code") or f"HTTP{status}", root.findtext("Message") or ""


def open_store(url: str, secure: bool = False) -> ObjectStore:
    """Build a store from `s3://KEY:SECRET@host:port/bucket` or `file:///path`."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        bucket = parts.path.strip("/")
        if not bucket or "/" in bucket:
            raise ValueError(f"storage URL needs exactly one bucket: {redact_url(url)}")
        if not parts.hostname:
            raise ValueError(f"storage URL needs a host: {redact_url(url)}")
        endpoint = parts.hostname + (f":{parts.port}" if parts.port else "")
        return S3Store(
            endpoint,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            bucket,
            secure=secure,
        )
    raise ValueError(f"unsupported storage URL scheme: {redact_url(url)}")
