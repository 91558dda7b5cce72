"""Object storage: S3 (MinIO SDK; any S3 server) or a local directory, behind one interface.

Objects are private. Readers without credentials get presigned GET URLs with a bounded expiry.
"""

from __future__ import annotations

import io
import os
import posixpath
import threading
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

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
        self._call(
            self.client.put_object,
            self.bucket,
            check_key(key),
            io.BytesIO(data),
            len(data),
            content_type=content_type,
        )

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
