"""`adgen catalog upload`: a shop's photo files -> validated objects under `catalog/`.

Each file is checked the way a worker will read it (`load_photo`, same limits) before it is
stored, so a key printed here is a key a worker can use. Keys are content addressed
(`catalog/<sha256 prefix>/<name>`): uploading the same file again yields the same key and the
same bytes. The size is read from the file system first, so a 100 MB file is never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.photos.keys import content_key
from shared.photos.load import PhotoLimits, PhotoRejection, load_photo
from shared.storage import ObjectStore

CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class UploadResult:
    path: str
    key: str | None  # None when rejected
    reason: str = ""  # why it was rejected
    format: str = ""
    size: tuple[int, int] | None = None
    already_there: bool = False
    notes: tuple[str, ...] = ()


def photo_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the files in the directories named (recursively, sorted; hidden
    files skipped). Symlinks are not followed out of a directory."""
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if p.is_file() and not p.is_symlink() and not p.name.startswith("."):
                    yield p
        else:
            yield path


def upload_photo(store: ObjectStore, path: Path, limits: PhotoLimits) -> UploadResult:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            return UploadResult(
                str(path), None, f"file of {size} bytes exceeds the {limits.max_bytes}-byte limit"
            )
        data = path.read_bytes()
    except OSError as exc:
        return UploadResult(str(path), None, f"cannot read: {exc.strerror or exc}")
    loaded = load_photo(data, limits)
    if isinstance(loaded, PhotoRejection):
        return UploadResult(str(path), None, loaded.reason)
    key = content_key(data, path.name)
    there = store.exists(key)
    if not there:
        store.put(key, data, CONTENT_TYPES.get(loaded.format, "application/octet-stream"))
    return UploadResult(
        str(path),
        key,
        format=loaded.format,
        size=loaded.original_size,
        already_there=there,
        notes=loaded.notes,
    )


def upload_photos(
    store: ObjectStore, paths: Iterable[Path], limits: PhotoLimits
) -> Iterator[UploadResult]:
    for path in photo_files(paths):
        yield upload_photo(store, path, limits)
