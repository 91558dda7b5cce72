"""Which plan images a photo replaces, and what each creative records about its images."""

from __future__ import annotations

import pytest
from PIL import Image

from shared.events import CampaignEvent
from shared.personalize import plan_event
from shared.photos.load import PhotoRejection, PhotoResult
from shared.photos.resolve import (
    PhotoUnavailable,
    annotate_records,
    generated_only,
    image_sources,
    merge_images,
    photos_for,
    require_photos,
    source_kind,
    split_requests,
)
from shared.records import CreativeRecord
from shared.samples import sample_events


def _photo(key: str = "catalog/ab/shoe.png") -> PhotoResult:
    return PhotoResult(
        Image.new("RGBA", (8, 8), (1, 2, 3, 255)), "f" * 64, "PNG", (8, 8), key=key, matte="border"
    )


def _with_photo(event: CampaignEvent, index: int = 0) -> CampaignEvent:
    products = list(event.products)
    products[index] = products[index].model_copy(update={"photo": "catalog/ab/shoe.png"})
    return event.model_copy(update={"products": products})


def test_cart_photo_replaces_the_product_and_complements_stay_generated() -> None:
    cart = _with_photo(sample_events("r", count=2)[2])
    plan = plan_event(cart)
    todo, from_photos = split_requests(plan, {0: _photo()})
    assert set(from_photos) == {(0, 0), (1, 0)}  # the product, in both variants
    assert todo and all(r.key[1] >= len(cart.products) for r in todo)  # complements only
    assert len(todo) + len(from_photos) == len(plan.images)
    generated = [Image.new("RGB", (4, 4)) for _ in todo]
    images = merge_images(todo, generated, from_photos)
    assert set(images) == {r.key for r in plan.images}
    assert images[(0, 0)].mode == "RGBA"
    assert set(generated_only(images, from_photos)) == {r.key for r in todo}
    with_comps = next(c for c in plan.creatives if len(c.image_keys) > 1)
    sources = image_sources(with_comps.image_keys, from_photos)
    assert sources[0]["source"] == "photo" and sources[0]["sha256"] == "f" * 64
    assert {s["source"] for s in sources[1:]} == {"generated"}
    assert source_kind(sources) == "mixed"


def test_recommendation_photo_only_for_the_product_that_has_one() -> None:
    rec = _with_photo(sample_events("r")[3], index=1)
    plan = plan_event(rec)
    todo, from_photos = split_requests(plan, {1: _photo()})
    assert {k[1] for k in from_photos} == {1}
    assert all(r.key[1] != 1 for r in todo)


def _record(prompt: str) -> CreativeRecord:
    return CreativeRecord(
        "id",
        0,
        "300x250",
        300,
        250,
        "v",
        "bold",
        prompt,
        1,
        "k",
        "image/png",
        1,
        0.0,
        0.0,
        0.0,
        {"plan": {}},
    )


def test_records_say_where_their_images_came_from() -> None:
    plan = plan_event(_with_photo(sample_events("r")[0]))
    from_photos = photos_for(plan, {0: _photo()})
    records = [_record("red running shoe") for _ in plan.creatives]
    (photo, *_) = annotate_records(records, plan, from_photos)
    assert photo.details["image_source"] == "photo" and "plan" in photo.details
    assert photo.details["image_sources"][0]["key"] == "catalog/ab/shoe.png"
    assert photo.prompt == "photo catalog/ab/shoe.png"
    (plain, *_) = annotate_records(records, plan, {})
    assert plain.details["image_source"] == "generated" and plain.prompt == "red running shoe"


def test_an_unusable_photo_fails_with_every_reason() -> None:
    with pytest.raises(PhotoUnavailable, match="product 1: catalog/x.png: no such photo"):
        require_photos({0: _photo(), 1: PhotoRejection("no such photo", "catalog/x.png")})
    assert require_photos({0: _photo()})[0].key == "catalog/ab/shoe.png"
