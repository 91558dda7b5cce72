"""Colour words in shop titles: lexicons per language, longest match first, no false friends."""

import pytest

from shared.text.colour_words import cjk_colour, colour_in, latin_colour
from shared.text.language import looks_foreign, non_latin


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("红色跑步鞋", "red"),
        ("紅色 慢跑鞋", "red"),
        ("藏青色 羽绒服", "blue"),
        ("卡其色风衣", "brown"),
        ("深空灰 笔记本", "black"),
        ("冰川白 手机", "white"),
        ("粉紅色 牙刷", "pink"),
        ("赤 パンプス", "red"),
        ("ネイビー リュック", "blue"),
        ("グレー マフラー", "black"),
        ("ベージュ バッグ", "brown"),
        ("검정 운동화", "black"),
    ],
)
def test_cjk_colours(text: str, colour: str) -> None:
    assert cjk_colour(text) == colour


@pytest.mark.parametrize(
    "text",
    [
        "网红同款 帆布包",
        "Redmi 红米手机",
        "蓝牙耳机 降噪",
        "藍芽 滑鼠",
        "白菜价 中性笔",
        "黑科技 支架",
        "机械键盘 青轴",
        "小叶紫檀 手串",
        "黑糖 奶茶",
        "红双喜 球拍",
        "赤ちゃん 哺乳瓶",
        "ホワイトデー ギフト",
        "防紫外线 太阳伞",
        "黄油曲奇",
        "红烧牛肉面",
    ],
)
def test_words_that_only_contain_a_colour_character(text: str) -> None:
    assert cjk_colour(text) is None


def test_a_false_friend_is_skipped_but_a_later_colour_still_counts() -> None:
    assert cjk_colour("羽绒服 白鸭绒 藏青色") == "blue"
    assert cjk_colour("网红同款 斜挎包 白色") == "white"


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("Zapatillas Hombre Negras", "black"),
        ("Bolso Rojo", "red"),
        ("Camiseta Blanca", "white"),
        ("Vaqueros Azul Claro", "blue"),
        ("Damen Jeans Dunkelblau", "blue"),
        ("Laufschuhe Rot Gr. 43", "red"),
        ("Herren Socken Schwarz", "black"),
        ("T-Shirt Weiß", "white"),
        ("Baskets Femme Blanches", "white"),
        ("Chaussettes Noires", "black"),
        ("Robe Longue Rouge", "red"),
        ("Scarpe Nere", "black"),
        ("Tênis Preto", "black"),
    ],
)
def test_latin_colours_with_inflections(text: str, colour: str) -> None:
    assert latin_colour(text) == colour


@pytest.mark.parametrize(
    "text",
    [
        "Vollkornbrot Roggenbrot",
        "Rotweingläser 6er Set",
        "Rotor",
        "Taza de Café",
        "Bracelet or",
        "Roto y roto",
    ],
)
def test_latin_words_that_merely_contain_a_colour(text: str) -> None:
    assert latin_colour(text) is None


def test_french_or_is_a_conjunction_not_gold() -> None:
    assert latin_colour("Bague Or Rose") == "pink"


def test_mixed_script_titles_take_the_first_colour() -> None:
    assert colour_in("iPhone 16 Pro 黑色钛金属") == "black"
    assert colour_in("Redmi Note 14 冰川白") == "white"
    assert colour_in("Schwarz und Rot") == "black"
    assert colour_in("plain title") is None


def test_non_latin_detection() -> None:
    assert non_latin("跑步鞋") and non_latin("ランニング") and non_latin("кроссовки")
    assert not non_latin("Zapatillas Niño") and not non_latin("Weiß 42")


def test_foreign_latin_titles_are_told_from_english() -> None:
    assert looks_foreign("Zapatillas de Running para Hombre")
    assert looks_foreign("Rucksack Herren Wasserdicht") and looks_foreign("Écharpe Hiver")
    assert not looks_foreign("Classic wristwatch") and not looks_foreign("Trail running shoe")


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("Чёрный рюкзак", "black"),
        ("Сумка женская черная", "black"),
        ("Футболка белая", "white"),
        ("Платье красное", "red"),
        ("Кроссовки синие", "blue"),
        ("Куртка тёмно-синяя", "blue"),
        ("Шарф серый", "black"),
        ("حقيبة يد جلدية للنساء سوداء", "black"),
        ("حذاء رياضي أبيض", "white"),
        ("فستان باللون الأحمر", "red"),  # ال + the colour is its own word here
        ("قميص ازرق", "blue"),  # without the hamza
        ("حقيبة وردية", "pink"),
        ("महिलाओं का चमड़े का हैंडबैग काला", "black"),
        ("काली टी-शर्ट", "black"),
        ("सफ़ेद जूते", "white"),
        ("नीली जींस", "blue"),
        ("गुलाबी दुपट्टा", "pink"),
    ],
)
def test_russian_arabic_and_hindi_colours_by_whole_words(text: str, colour: str) -> None:
    assert latin_colour(text) == colour
    assert colour_in(text) == colour


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("กระเป๋าถือหนังผู้หญิงสีดำ", "black"),
        ("รองเท้าผ้าใบสีขาว", "white"),
        ("เสื้อยืดสีน้ำเงิน", "blue"),
        ("กระเป๋าสตางค์สีน้ำตาล", "brown"),
        ("ชุดเดรสสีชมพู", "pink"),
    ],
)
def test_thai_colours_without_word_boundaries(text: str, colour: str) -> None:
    assert cjk_colour(text) == colour
    assert colour_in(text) == colour


@pytest.mark.parametrize(
    "text",
    [
        "Беларусь",  # a word that merely starts like "белый"
        "Красноярск",
        "ชุดดำน้ำ",  # diving suit: bare "ดำ" is no colour
        "สีน้ำ ชุดระบายสี",  # watercolour paint
    ],
)
def test_words_that_merely_contain_a_colour_in_the_new_languages(text: str) -> None:
    assert colour_in(text) is None
