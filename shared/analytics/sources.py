"""Image references for the report: a bounded-expiry presigned GET per creative (S3), or a
file:// URI (embedded local store), plus optional small thumbnails embedded as data: URIs.

Analysts never get storage credentials and the bucket stays private: the presigned URL is the
only way in, and it expires.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from PIL import Image

from shared.analytics.queries import CreativeRecord
from shared.storage import ObjectStore

MIN_EXPIRY_S = 60
MAX_EXPIRY_S = 7 * 24 * 3600  # the S3 (SigV4) ceiling for presigned URLs
SAFE_SCHEMES = frozenset({"http", "https", "file"})

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class ImageSource:
    href: str  # full-size object: presigned URL or file:// URI ("" when unavailable)
    src: str  # what <img> shows: a data: thumbnail, or the href itself
    error: str | None = None


def check_expiry(expiry_s: int) -> int:
    if not MIN_EXPIRY_S <= expiry_s <= MAX_EXPIRY_S:
        raise ValueError(f"expiry must be between {MIN_EXPIRY_S} and {MAX_EXPIRY_S} seconds")
    return expiry_s


def safe_link(url: str) -> str:
    """The URL if its scheme can only fetch an image; '' otherwise (never javascript: & co)."""
    return url if urlsplit(url).scheme.lower() in SAFE_SCHEMES else ""


def thumbnail_data_uri(png: bytes, max_px: int) -> str:
    """A downscaled WebP of the creative as a data: URI (a few KB; keeps text legible). Wide
    banners may be twice as wide as `max_px`, so a leaderboard's copy stays readable."""
    with Image.open(io.BytesIO(png)) as src:
        thumb = src.convert("RGB")
    thumb.thumbnail((2 * max_px, max_px), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    thumb.save(buf, format="WEBP", quality=82, method=4)
    return "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def resolve_sources(
    store: ObjectStore,
    creatives: Sequence[CreativeRecord],
    *,
    expiry_s: int,
    embed_thumbnails: bool,
    thumb_px: int = 320,
    progress: Progress | None = None,
) -> dict[str, ImageSource]:
    """One `ImageSource` per creative id. A missing object is reported, not fatal."""
    check_expiry(expiry_s)
    out: dict[str, ImageSource] = {}
    total = len(creatives)
    for i, c in enumerate(creatives, 1):
        try:
            href = safe_link(store.url(c.object_key, expiry_s))
            src = (
                thumbnail_data_uri(store.get(c.object_key), thumb_px) if embed_thumbnails else href
            )
            out[c.creative_id] = ImageSource(href=href, src=src)
        except Exception as exc:  # noqa: BLE001 - one unreadable object must not sink the report
            out[c.creative_id] = ImageSource(
                href="", src="", error=f"{type(exc).__name__}: {exc}"[:300]
            )
        if progress is not None:
            progress(i, total)
    return out
