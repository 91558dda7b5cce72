"""The storage side of photos: an event's catalog keys -> decoded, cut-out photos.

The one place that reads photos from the object store. The size is asked before the body is
downloaded, so a 100 MB object costs a HEAD request, not 100 MB. Transient storage errors
propagate (the task retries); a missing or bad photo is a `PhotoRejection` with the reason.
A worker sees the same few photos again and again, so cut-outs are kept in a small LRU keyed
by the bytes' sha256 (a re-uploaded photo under the same key is a new entry).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace

from minio.error import S3Error

from shared.config import get_settings
from shared.events import CampaignEvent
from shared.photos.cutout import cutout
from shared.photos.keys import check_catalog_key
from shared.photos.load import PhotoLimits, PhotoRejection, PhotoResult, load_photo
from shared.storage import ObjectStore

CACHE_SIZE = 16  # entries are shared between threads and events: never mutate their images
_cache: OrderedDict[str, PhotoResult] = OrderedDict()
_cache_lock = threading.Lock()


def fetch_product_photos(
    event: CampaignEvent, store: ObjectStore, limits: PhotoLimits | None = None
) -> dict[int, PhotoResult | PhotoRejection]:
    """Product index -> its cut-out photo (or why not), for the products that name one."""
    limits = limits or PhotoLimits.from_settings(get_settings())
    return {
        i: fetch_photo(store, p.photo, limits)
        for i, p in enumerate(event.products)
        if p.photo is not None
    }


def fetch_photo(store: ObjectStore, key: str, limits: PhotoLimits) -> PhotoResult | PhotoRejection:
    try:
        check_catalog_key(key)  # the schema checked it; an adapter does not rely on that
    except ValueError as exc:
        return PhotoRejection(str(exc), key)
    try:
        size = store.size(key)
        if size is None:
            return PhotoRejection("no such photo in the catalog", key)
        if size > limits.max_bytes:
            return PhotoRejection(
                f"file of {size} bytes exceeds the {limits.max_bytes}-byte limit", key
            )
        data = store.get(key)
    except (FileNotFoundError, S3Error) as exc:  # gone since, or not ours to read
        return PhotoRejection(f"cannot read the photo: {getattr(exc, 'code', exc)}", key)
    return cut_out(data, key, limits)


def cut_out(data: bytes, key: str, limits: PhotoLimits) -> PhotoResult | PhotoRejection:
    """Decode + cut out `data` (cached by content and limits)."""
    digest = f"{hashlib.sha256(data).hexdigest()}:{limits}"
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
            return replace(hit, key=key)
    loaded = load_photo(data, limits)
    if isinstance(loaded, PhotoRejection):
        return replace(loaded, key=key)
    image, matte = cutout(loaded.image)
    result = replace(loaded, image=image, matte=matte, key=key)
    with _cache_lock:
        _cache[digest] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result
