"""Catalog keys: only objects under catalog/, never a URL or a path that escapes it."""

from __future__ import annotations

import json

import pytest

from shared.events import CampaignEvent, Rejection, parse_event
from shared.photos.keys import MAX_KEY_LENGTH, check_catalog_key, content_key, safe_name
from shared.samples import sample_events

BAD = [
    "../x",
    "/etc/passwd",
    "http://169.254.169.254/latest/meta-data",
    "https://shop/x.png",
    "catalog/../x",
    "catalog/a/../../creatives/x.png",
    "catalog/",
    "catalog",
    "catalog//x",
    "catalog/./x",
    "catalog/.hidden",
    "catalog/a\\b",
    "catalog/a b",
    "catalog/%2e%2e/x",
    "Catalog/x.png",
    "creatives/c/e/x.png",
    "catalog/x\n",
    "file:///etc/passwd",
    "catalog/" + "a" * MAX_KEY_LENGTH,
]


@pytest.mark.parametrize("key", BAD)
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        check_catalog_key(key)


@pytest.mark.parametrize("key", BAD)
def test_events_with_bad_photo_keys_are_rejected(key: str) -> None:
    raw = json.loads(sample_events("k")[0].canonical_json())
    raw["products"][0]["photo"] = key
    out = parse_event(raw)
    assert isinstance(out, Rejection) and "products.0.photo" in out.reason


def test_good_key_is_accepted_and_recorded() -> None:
    raw = json.loads(sample_events("k")[0].canonical_json())
    raw["products"][0]["photo"] = "catalog/0123abcd/trail-shoe.jpg"
    out = parse_event(raw)
    assert isinstance(out, CampaignEvent) and out.product.photo == raw["products"][0]["photo"]
    assert '"photo":"catalog/0123abcd/trail-shoe.jpg"' in out.canonical_json()


def test_events_without_photos_keep_their_payload_hash() -> None:
    """The new optional field is left out of the canonical form when absent, so an event
    published before it existed hashes the same (no false 'conflicting payload')."""
    event = sample_events("k")[0]
    assert '"photo"' not in event.canonical_json()


def test_content_keys_are_stable_and_safe() -> None:
    a = content_key(b"same bytes", "My Shoe (1).JPG")
    assert a == content_key(b"same bytes", "My Shoe (1).JPG")
    assert a != content_key(b"other bytes", "My Shoe (1).JPG")
    assert a.startswith("catalog/") and a.endswith("/My-Shoe-1-.JPG")
    assert check_catalog_key(content_key(b"x", "../../etc/passwd")).endswith("/passwd")
    assert safe_name("....") == "photo" and safe_name("_x.png") == "p_x.png"
