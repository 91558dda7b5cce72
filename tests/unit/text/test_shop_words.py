"""Shop words: catalog concepts only, simplified characters, longest match, blocked compounds."""

import bz2
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.catalog.concepts import EMOJI_TEST, load_concepts
from shared.text import product_noun
from shared.text.shop_lexicon import lexicon, word_hits
from shared.text.shop_words import BLOCKED, SHOP_WORDS
from shared.text.traditional import _PAIRS, simplified

# Japanese words in kanji only, whose characters Chinese writes otherwise.
_JAPANESE = (
    "長靴 紳士靴 運動靴 長財布 紙袋 眼鏡 老眼鏡 指輪 口紅 土鍋 煎餅 月餅 餃子 牡蠣 急須 "
    "乾杯 絆創膏 松葉杖 聴診器 網戸 風船 紙吹雪 雛人形 風鈴 軟式 釣竿 携帯電話 固話 電話機 "
    "固定電話 乾電池 電池 複合機 電球 led電球 懐中電灯 書籍 参考書 鉛筆 色鉛筆 万年筆 絵筆 "
    "書庫 歯車 試験管 顕微鏡 単眼鏡 望遠鏡 双眼鏡 充電器 葉物野菜"
)
JAPANESE = set(_JAPANESE.split())
UNIHAN_VARIANTS = Path("/usr/share/unicode/Unihan_Variants.txt.bz2")


@pytest.mark.skipif(not EMOJI_TEST.exists(), reason="unicode-data missing")
def test_every_entry_is_a_catalog_concept_and_the_catalog_is_covered() -> None:
    concepts = {c.name for c in load_concepts()}
    assert set(SHOP_WORDS) <= concepts
    assert len(SHOP_WORDS) >= 0.8 * len(concepts)  # broad: not only the shoes and bags


def test_chinese_words_are_written_in_simplified_characters_and_never_blocked() -> None:
    words = [w for text in SHOP_WORDS.values() for w in text.split()] + BLOCKED.split()
    chinese = [w for w in words if not re.search(r"[\u3040-\u30ff]", w) and w not in JAPANESE]
    assert all(simplified(w) == w for w in chinese)
    assert not set(BLOCKED.split()) & {w for t in SHOP_WORDS.values() for w in t.split()}


def test_japanese_words_with_traditional_forms_still_match() -> None:
    """Titles and words are simplified alike, so "電球" (Japanese) is found in a Japanese title."""
    assert word_hits("電球 E26 昼白色 4個") == {"light bulb": 4}
    assert word_hits("顕微鏡 子供用") == {"microscope": 6}


@pytest.mark.skipif(not UNIHAN_VARIANTS.exists(), reason="unicode-data's Unihan missing")
def test_traditional_table_agrees_with_unihan() -> None:
    variants: dict[str, set[str]] = {}
    with bz2.open(UNIHAN_VARIANTS, "rt", encoding="utf-8") as fh:
        for line in fh:
            if "\tkTraditionalVariant\t" in line:
                code, _, values = line.rstrip("\n").split("\t")
                for value in values.split():
                    variants.setdefault(chr(int(value[2:], 16)), set()).add(chr(int(code[2:], 16)))
    for trad, simp in zip(_PAIRS[::2], _PAIRS[1::2], strict=True):
        assert simp in variants.get(trad, set()), (trad, simp)


@pytest.mark.parametrize(
    ("title", "concept"),
    [
        ("2026新款男士轻便透气红色跑步鞋 减震防滑运动鞋学生百搭", "running shoe"),
        ("双肩包男士大容量旅行背包 15.6寸电脑包", "backpack"),  # 电脑包 is a bag, not a laptop
        ("機械鍵盤 紅軸 87鍵 電競", "keyboard"),  # traditional characters
        ("後背包 筆電包 防潑水", "backpack"),
        ("ワイヤレス マウス 静音", "computer mouse"),
        ("Tシャツ メンズ 半袖", "t-shirt"),
    ],
)
def test_titles_name_their_concept(title: str, concept: str) -> None:
    hits = word_hits(title)
    assert max(hits, key=hits.__getitem__) == concept, hits


@pytest.mark.parametrize(
    "title", ["透明手机壳 防摔", "实木鞋柜 门厅", "鼠标垫 超大 加厚", "包邮 包装"]
)
def test_blocked_compounds_name_nothing(title: str) -> None:
    assert not word_hits(title)


def test_latin_titles_are_not_scanned() -> None:
    assert not word_hits("Abcd Switcher DVD")  # "cd", "switch", "dvd" are shop words


def test_longest_word_wins_at_each_position() -> None:
    table, longest = lexicon()
    assert "游泳眼镜" in table and longest >= 4
    assert word_hits("游泳眼镜 防雾") == {"goggles": 8}  # not "眼镜" (glasses); first word x2


def test_one_named_concept_needs_no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the encoder was asked")

    monkeypatch.setattr(product_noun, "_encoder_scores", refuse)
    found = product_noun.match_noun("儿童显微镜 高倍 科学实验")
    assert found is not None and found.noun == "microscope"


def test_a_han_title_far_from_every_concept_is_declined(monkeypatch: pytest.MonkeyPatch) -> None:
    """No shop word and an encoder score under NONE_BELOW: "none of these", so the prompt falls
    back to the category as for a title without words. Latin titles are never declined."""
    from decimal import Decimal

    import numpy as np

    from shared.events import Product
    from shared.personalize import product_phrase
    from shared.text.concept_index import get_index

    n = len(get_index().concepts)

    def scores(score: float) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
        return lambda _t, chunks, _i: (np.full(n, score), np.zeros((len(chunks), n)))

    def phrase(title: str) -> str:
        return product_phrase(Product(sku="S", title=title, category="shoes", price=Decimal(1)))

    monkeypatch.setattr(product_noun, "_encoder_scores", scores(product_noun.NONE_BELOW - 0.01))
    assert not word_hits("全自动 智能 一体 家用款")
    assert product_noun.match_noun("全自动 智能 一体 家用款") is None
    assert phrase("全自动 智能 一体 家用款") == phrase("2026 888")  # the category's noun
    assert product_noun.match_noun("Aspirateur sans fil") is not None
    monkeypatch.setattr(product_noun, "_encoder_scores", scores(product_noun.NONE_BELOW + 0.01))
    assert product_noun.match_noun("全自动 智能 一体 家用款") is not None
