"""Planning: determinism, counts, audience-driven variants, complements, caption vocabulary."""

import json
import unicodedata
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.compose.preview import sample_event
from shared.events import EVENT_TYPES, CampaignEvent, Product
from shared.ids import creative_id
from shared.personalize import (
    COLOURS,
    COMPLEMENTS,
    DEFAULT_COMPLEMENTS,
    PRODUCT_NOUNS,
    build_prompt,
    complements_for,
    named_colour,
    pick_tone,
    plan_event,
    product_phrase,
)
from shared.placements import PLACEMENTS

ALL_SIZES = list(PLACEMENTS)


def _event(
    ad_type: str = "product_display",
    segment: str = "sporty",
    count: int = 2,
    sizes: list[str] | None = None,
    **extra: Any,
) -> CampaignEvent:
    return sample_event(
        ad_type, "clean", sizes=sizes or ALL_SIZES, segment=segment, count=count, **extra
    )


@pytest.mark.parametrize("ad_type", EVENT_TYPES)
def test_counts_ids_and_image_references(ad_type: str) -> None:
    event = _event(ad_type, count=3)
    plan = plan_event(event)
    assert len(plan.creatives) == event.creative.count * len(event.creative.sizes)
    assert [c.index for c in plan.creatives] == list(range(len(plan.creatives)))
    assert [c.creative_id for c in plan.creatives] == [
        creative_id(event.event_id, i) for i in range(len(plan.creatives))
    ]
    keys = [r.key for r in plan.images]
    assert len(keys) == len(set(keys))
    used = {k for c in plan.creatives for k in c.image_keys}
    assert used == set(keys)  # every sample is used, and every used key is generated
    for c in plan.creatives:
        assert len(c.prompts) == len(c.image_keys) and c.ad_type == ad_type
        assert all(k[0] == c.variant for k in c.image_keys)


@pytest.mark.parametrize("ad_type", EVENT_TYPES)
def test_plan_is_deterministic_and_json_serialisable(ad_type: str) -> None:
    a, b = plan_event(_event(ad_type)), plan_event(_event(ad_type))
    assert a == b
    for c in a.creatives:
        json.dumps(asdict(c))


def test_event_id_seeds_when_no_seed_given() -> None:
    data = _event().model_dump(mode="json")
    data["creative"]["seed"] = None
    seeds_a = [r.seed for r in plan_event(CampaignEvent.model_validate(data)).images]
    data["event_id"] = "another-event"
    seeds_b = [r.seed for r in plan_event(CampaignEvent.model_validate(data)).images]
    assert seeds_a != seeds_b


def test_segments_give_different_prompts_copy_and_variants() -> None:
    data = _event().model_dump(mode="json")
    data["products"][0]["title"] = "Trail Running Shoe"  # names no colour of its own
    plans = {}
    for segment in ("sporty", "luxury", "family", "young"):
        data["audience"]["segment"] = segment
        plans[segment] = plan_event(CampaignEvent.model_validate(data)).creatives[0]
    prompts = {s: p.prompts[0] for s, p in plans.items()}
    assert len(set(prompts.values())) == 4, prompts
    assert len({p.variant_name for p in plans.values()}) == 4
    assert len({p.copy.kicker for p in plans.values()}) == 4
    assert plans["luxury"].typeface == "serif" and plans["sporty"].typeface == "sans"
    assert plans["luxury"].button == "square" and plans["young"].button == "pill"


def test_interests_pick_the_tone_when_segment_is_generic() -> None:
    assert pick_tone("returning customers", ["hiking", "camping"]).name == "outdoor"
    assert pick_tone("Sporty Millennials", []).name == "sporty"
    assert pick_tone("everyone", []).name == "general"


def test_variants_of_one_audience_differ_in_colour() -> None:
    creatives = plan_event(_event(count=3, sizes=["300x250"])).creatives
    assert len({c.prompts[0] for c in creatives}) == 3
    assert len({c.accent for c in creatives}) == 3


def test_prompts_stay_in_caption_vocabulary() -> None:
    for ad_type in EVENT_TYPES:
        for request in plan_event(_event(ad_type)).images:
            colour, _, noun = request.prompt.partition(" ")
            assert colour in COLOURS and noun, request.prompt
    product = _event().products[0]
    assert build_prompt(product, "sporty", [], 0) == "red running shoe"
    data = _event().model_dump(mode="json")
    data["products"][0]["title"] = "Navy Blue Leather Handbag"
    own = CampaignEvent.model_validate(data).products[0]
    assert build_prompt(own, "sporty", [], 1) == "blue handbag"  # the product's colour wins


def test_nouns_are_generator_captions() -> None:
    emoji_test = Path("/usr/share/unicode/emoji/emoji-test.txt")
    if not emoji_test.exists():
        pytest.skip("emoji-test.txt not installed; cannot list the catalog's captions")
    from shared.catalog.concepts import load_concepts

    captions = {c for concept in load_concepts(emoji_test) for c in concept.captions}
    nouns = {n for _, n in PRODUCT_NOUNS}
    nouns |= {n for _, items in COMPLEMENTS for n, _ in items}
    nouns |= {n for n, _ in DEFAULT_COMPLEMENTS}
    assert nouns - captions == set()


def test_cart_gets_complements_with_their_own_prompts() -> None:
    plan = plan_event(_event("cart"))
    assert complements_for(_event("cart").products[0])[0] == ("socks", "Sport socks")
    for c in plan.creatives:
        n = 1 if c.size == "320x50" else 2
        assert len(c.complements) == n and len(c.image_keys) == 1 + n
        assert c.products == ("SKU-1",)
        assert c.arrangement == "hero+complements"
        assert c.prompts[1].endswith("socks")
        assert c.copy.kicker == "Complete your order"
    comp_prompts = [r.prompt for r in plan.images if r.key[1] >= 1]
    assert any("running shirt" in p for p in comp_prompts)


def test_complement_table_covers_common_baskets() -> None:
    def first(title: str, category: str) -> str:
        data = _event("cart").model_dump(mode="json")
        data["products"][0].update(title=title, category=category)
        return complements_for(CampaignEvent.model_validate(data).products[0])[0][1]

    assert first("Leather Tote Bag", "bags") == "Wallet"
    assert first("Single-Origin Coffee Beans", "food and drink") == "Mug"
    assert first("Gift Card", "misc") == "Gift wrap"


def test_recommendation_shape_by_size() -> None:
    plan = plan_event(_event("recommendation", count=2))
    by_size = {(c.variant, c.size): c for c in plan.creatives}
    assert by_size[(0, "728x90")].arrangement == "strip"
    assert by_size[(0, "1080x1080")].arrangement == "grid"
    assert by_size[(0, "300x250")].arrangement == "grid"
    assert by_size[(0, "160x600")].arrangement == "stack"
    single0, single1 = by_size[(0, "320x50")], by_size[(1, "320x50")]
    assert single0.arrangement == "single" and len(single0.products) == 1
    assert single0.products != single1.products  # the single slot rotates through the picks
    assert single0.copy.headline == "Pegasus Trail Running Shoe"
    assert by_size[(0, "728x90")].copy.headline == "Picked for you"


def test_brand_copy_uses_the_kit() -> None:
    for c in plan_event(_event("brand")).creatives:
        assert c.copy.headline == "Stride" and c.copy.tagline == "Every step, lighter."
        assert c.copy.cta == "Discover" and c.copy.price == ""


def test_copy_is_localised() -> None:
    event = sample_event("cart", "clean", locale="de-DE", sizes=["300x250"])
    c = plan_event(event).creatives[0]
    assert c.copy.cta == "Zur Kasse" and c.copy.kicker == "Bestellung abschließen"
    assert c.copy.price == "129,99\u00a0$" and c.locale == "de-DE"


def test_complement_keys_never_collide_with_product_indices() -> None:
    data = _event("cart").model_dump(mode="json")
    data["products"] = [dict(data["products"][0], sku=f"SKU-{i}") for i in range(6)]
    plan = plan_event(CampaignEvent.model_validate(data))
    comp_keys = [k for c in plan.creatives for k in c.image_keys[1:]]
    assert comp_keys and all(k[1] >= 6 for k in comp_keys)


def test_a_creative_plan_record_is_what_asdict_gives() -> None:
    from shared.samples import sample_events

    plans = [cp for ev in sample_events("rec", count=2) for cp in plan_event(ev).creatives]
    assert plans
    for cp in plans:
        assert cp.as_record() == asdict(cp)


def _product(title: str, brand: str = "", description: str = "") -> Product:
    return Product(
        sku="S1",
        title=title,
        category="general",
        price=Decimal("9.99"),
        brand=brand,
        description=description,
    )


@pytest.mark.parametrize(
    ("title", "brand", "phrase"),
    [
        ("Stainless Steel Insulated Water Bottle 750ml", "", "water bottle"),
        ("Coca-Cola 330ml x 24 cans", "Coca-Cola", "cans"),
        ("Black+Decker cordless drill 18V", "", "cordless drill"),
        ("Apple Watch Series 9 GPS 45mm Midnight", "Apple", "gps midnight"),
    ],
)
def test_last_words_drop_numbers_units_and_multipliers(title: str, brand: str, phrase: str) -> None:
    """Not "bottle ml" (750ml), "x cans" (330ml x 24 cans) or "drill v" (18V)."""
    assert product_phrase(_product(title, brand)) == phrase


@pytest.mark.parametrize(
    ("title", "colour"),
    [
        (unicodedata.normalize("NFD", "Zapatos de mujer marrón"), "brown"),
        (unicodedata.normalize("NFD", "여성 가죽 핸드백 검정"), "black"),
        ("ＲＥＤ ＨＡＮＤＢＡＧ", "red"),
        ("ｒｅｄ", "red"),
    ],
)
def test_colours_are_matched_in_normal_form(title: str, colour: str) -> None:
    assert named_colour(_product(title)) == colour


def test_full_width_titles_match_the_noun_rules_but_the_ad_keeps_the_title() -> None:
    product = _product("ＲＵＮＮＩＮＧ ＳＨＯＥ")
    assert product_phrase(product) == "running shoe"
    assert product.title == "ＲＵＮＮＩＮＧ ＳＨＯＥ"


@pytest.mark.parametrize(
    ("title", "brand", "prompt"),
    [
        ("红蜻蜓男鞋 真皮商务皮鞋 黑色", "红蜻蜓", "black "),
        ("Black+Decker cordless drill 18V orange", "Black+Decker", "orange cordless drill"),
        ("Black+Decker cordless drill 18V", "black+decker", "red cordless drill"),  # tone's colour
    ],
)
def test_the_brand_does_not_name_the_colour(title: str, brand: str, prompt: str) -> None:
    assert build_prompt(_product(title, brand), "sporty", [], 0).startswith(prompt)


@pytest.mark.parametrize(
    "title",
    [
        "Чёрный рюкзак",
        "Рюкзак черный",
        "حقيبة يد جلدية للنساء سوداء",
        "महिलाओं का चमड़े का हैंडबैग काला",
        "กระเป๋าถือหนังผู้หญิงสีดำ",
    ],
)
def test_russian_arabic_hindi_and_thai_titles_name_their_colour(title: str) -> None:
    assert named_colour(_product(title)) == "black"


def test_a_short_latin_brand_is_taken_out_only_as_a_whole_word() -> None:
    shoe = Product(sku="s", title="Red cotton running shoe", category="shoes", price=1, brand="Ed")
    assert named_colour(shoe) == "red"  # "Ed" inside "Red" is not the brand
    lu = Product(sku="s", title="Blue rain jacket", category="clothing", price=1, brand="Lu")
    assert named_colour(lu) == "blue"  # "Lu" inside "Blue" is not the brand either
