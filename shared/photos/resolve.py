"""Which of a plan's images come from the shop's photos, and what each creative records.

Pure functions over the plan: `plan_event` asks for one image per (variant, product or
complement); a product with a photo gets its photo in every variant, the GAN draws the rest.

A photo that cannot be used at run time (missing key, bad file) fails the event with the reason
(`PhotoUnavailable`): the shop asked for its own photo, so silently drawing something else in
its place would be the one thing it told us not to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from PIL import Image

from shared.photos.load import PhotoRejection, PhotoResult
from shared.plan import EventPlan, ImageRequest
from shared.records import CreativeRecord

Key = tuple[int, int]
PhotoMap = dict[Key, PhotoResult]  # image key -> the photo shown there


class PhotoUnavailable(Exception):  # noqa: N818 - reads as the reason in the event's error
    """An event references a photo that cannot be used; the message says which and why."""


def require_photos(fetched: Mapping[int, PhotoResult | PhotoRejection]) -> dict[int, PhotoResult]:
    """The usable photos, or PhotoUnavailable naming every product whose photo is not."""
    bad = [
        f"product {i}: {r.key or '?'}: {r.reason}"
        for i, r in sorted(fetched.items())
        if isinstance(r, PhotoRejection)
    ]
    if bad:
        raise PhotoUnavailable("; ".join(bad))
    return {i: r for i, r in fetched.items() if isinstance(r, PhotoResult)}


def photos_for(plan: EventPlan, fetched: Mapping[int, PhotoResult | PhotoRejection]) -> PhotoMap:
    """Image key -> photo for every image of `plan` a usable photo replaces (see
    `require_photos` for the unusable ones)."""
    return split_requests(plan, require_photos(fetched))[1]


def split_requests(
    plan: EventPlan, photos: Mapping[int, PhotoResult]
) -> tuple[list[ImageRequest], PhotoMap]:
    """(requests the GAN must still draw, image key -> the photo that replaces a request)."""
    to_generate: list[ImageRequest] = []
    from_photos: PhotoMap = {}
    for req in plan.images:
        photo = photos.get(req.key[1])  # complement indices never match a product index
        if photo is None:
            to_generate.append(req)
        else:
            from_photos[req.key] = photo
    return to_generate, from_photos


def merge_images(
    to_generate: Sequence[ImageRequest],
    generated: Sequence[Image.Image],
    from_photos: Mapping[Key, PhotoResult],
) -> dict[Key, Image.Image]:
    """Every image the plan needs: the GAN's, in request order, plus the photos' cut-outs."""
    return with_photos(
        {r.key: img for r, img in zip(to_generate, generated, strict=True)}, from_photos
    )


def with_photos(
    images: Mapping[Key, Image.Image], from_photos: Mapping[Key, PhotoResult]
) -> dict[Key, Image.Image]:
    """`images` (the GAN's) with the photos' cut-outs added at their keys."""
    return {**images, **{k: p.image for k, p in from_photos.items()}}


def generated_only(
    images: Mapping[Key, Image.Image], from_photos: Mapping[Key, PhotoResult]
) -> dict[Key, Image.Image]:
    """The GAN's images alone: what the scorer rates and the render hand-off carries."""
    return {k: img for k, img in images.items() if k not in from_photos}


def image_sources(
    keys: Sequence[Key], from_photos: Mapping[Key, PhotoResult]
) -> list[dict[str, Any]]:
    """Per image of a creative, in order: a photo (key, sha256, matte) or "generated"."""
    out: list[dict[str, Any]] = []
    for k in keys:
        p = from_photos.get(k)
        out.append(
            {"source": "generated"}
            if p is None
            else {
                "source": "photo",
                "key": p.key,
                "sha256": p.sha256,
                "matte": p.matte,
                "notes": list(p.notes),
            }
        )
    return out


def source_kind(sources: Sequence[Mapping[str, Any]]) -> str:
    """ "generated", "photo" or "mixed" for a creative."""
    kinds = {s["source"] for s in sources}
    return "mixed" if len(kinds) > 1 else (kinds.pop() if kinds else "generated")


def annotate_records(
    records: Sequence[CreativeRecord], plan: EventPlan, from_photos: Mapping[Key, PhotoResult]
) -> list[CreativeRecord]:
    """The plan's creative records with where their images came from (`details.image_sources`,
    `details.image_source`). A creative of photos only was not made by the model: its prompt
    says what it shows, and the ledger records it without a model version
    (shared/db/group_commit.creative_row), so the model's metrics never include it."""
    out = []
    for record, cp in zip(records, plan.creatives, strict=True):
        sources = image_sources(cp.image_keys, from_photos)
        kind = source_kind(sources)
        details = {**record.details, "image_sources": sources, "image_source": kind}
        prompt = (
            " | ".join(f"photo {s['key']}" for s in sources) if kind == "photo" else record.prompt
        )
        out.append(replace(record, details=details, prompt=prompt))
    return out
