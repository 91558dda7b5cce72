"""Colour words in the common shop languages, mapped onto the generator's colour vocabulary.

Colours are a closed set, so per-language lexicons beat an encoder here. Han/kana/Hangul and
Thai text has no spaces: it is scanned left to right taking the longest entry at each position,
and entries that merely contain a colour character ("网红" internet-famous, "蓝牙" Bluetooth,
"赤ちゃん" baby, "白菜" cabbage) are listed as non-colours so that the scan steps over them.
Languages written with spaces (Latin script, Russian, Arabic, Hindi) are matched by whole words,
with the usual inflections ("rojas", "schwarzen", "noires", "чёрная", "سوداء", "काली") and German
light/dark prefixes ("dunkelblau"); a word that merely contains one ("Brot", "Rotwein") never
matches. Text and entries are compared in one normal form (shared.text.language.fold: NFKC, case
folded). The first colour named wins, as on the English path.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from shared.text.language import fold

# Target vocabulary (shared.personalize.COLOURS): red orange yellow green blue purple pink brown
# black white. Grey and silver fold into black and white there too.
# Word tables read better packed than one word per line.
# fmt: off
_CJK_COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("红色", "红", "大红", "酒红", "正红", "玫红", "枣红", "紅色", "紅", "酒紅", "赤",
            "赤色", "レッド", "ワインレッド", "ボルドー", "빨간", "빨강", "레드"),
    "orange": ("橙色", "橙", "橘色", "橘红", "橘紅", "オレンジ", "주황", "오렌지"),
    "yellow": ("黄色", "黄", "黃色", "黃", "金色", "姜黄", "芥末黄", "イエロー", "ゴールド",
               "からし色", "노란", "노랑", "옐로우", "골드", "금색"),
    "green": ("绿色", "绿", "军绿", "墨绿", "綠色", "綠", "軍綠", "緑", "緑色", "グリーン",
              "カーキ", "초록", "녹색", "그린", "카키"),
    "blue": ("蓝色", "蓝", "藏青", "藏蓝", "宝蓝", "天蓝", "浅蓝", "深蓝", "海军蓝", "藍色", "藍",
             "寶藍", "青", "青色", "紺", "紺色", "水色", "ブルー", "ネイビー", "サックス", "파란",
             "파랑", "블루", "네이비", "하늘색"),
    "purple": ("紫色", "紫", "紫罗兰", "紫羅蘭", "パープル", "ラベンダー", "보라", "퍼플"),
    "pink": ("粉色", "粉红", "粉紅", "粉紅色", "浅粉", "淺粉", "桃红", "桃紅", "ピンク", "桃色",
             "분홍", "핑크"),
    "brown": ("棕色", "棕", "咖啡色", "咖色", "褐色", "驼色", "駝色", "卡其", "卡其色", "米色",
              "杏色", "焦糖色", "茶色", "ブラウン", "ベージュ", "キャメル", "갈색", "브라운",
              "베이지"),
    "black": ("黑色", "黑", "黒", "黒色", "灰色", "灰", "深灰", "浅灰", "淺灰", "ブラック",
              "グレー", "チャコール", "검정", "검은", "블랙", "회색", "그레이"),
    "white": ("白色", "白", "米白", "乳白", "象牙白", "银色", "银", "銀色", "銀", "ホワイト",
              "シルバー", "アイボリー", "흰", "하얀", "화이트", "실버", "은색"),
}
# Thai writes no spaces either, and names a colour as "สี" (colour) + the word: "สีดำ" black.
# Bare "ดำ" is left out ("ดำน้ำ" diving); longest match keeps "สีน้ำ" (watercolour) apart from
# "สีน้ำเงิน" and "สีน้ำตาล".
_THAI_COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("สีแดง", "สีเลือดหมู"),
    "orange": ("สีส้ม",),
    "yellow": ("สีเหลือง", "สีทอง"),
    "green": ("สีเขียว",),
    "blue": ("สีน้ำเงิน", "สีฟ้า", "สีกรมท่า"),
    "purple": ("สีม่วง",),
    "pink": ("สีชมพู",),
    "brown": ("สีน้ำตาล", "สีเบจ", "สีกากี"),
    "black": ("สีดำ", "สีเทา"),
    "white": ("สีขาว", "สีเงิน", "สีครีม"),
}
# Words that contain a colour character but name no colour of the product.
_CJK_NOT_COLOURS = (
    "网红", "網紅", "走红", "爆红", "红米", "紅米", "红酒", "紅酒", "红烧",
    "紅燒", "红颜", "紅顏", "红双喜", "紅雙喜", "红外", "紅外", "红茶", "紅茶", "口红", "口紅",
    "红利", "白菜", "白领", "白領", "白鸭绒", "白鴨絨", "白鹅绒", "白鵝絨", "白酒", "白茶", "白糖",
    "美白", "显白", "顯白", "洁白", "潔白", "蛋白", "明白", "白天", "白髪", "白湯", "黑科技",
    "黑五", "黑色星期五", "黑糖", "黑巧", "黑白", "黑胶", "黑膠", "黑咖啡", "黑椒", "黑头", "黑頭",
    "黑眼圈", "黒字", "黒酢", "黒糖", "蓝牙", "藍牙", "藍芽", "蓝光", "藍光", "蓝莓", "藍莓",
    "青轴", "青軸", "青春", "青年", "青岛", "青島", "青汁", "青空", "青菜", "绿茶", "綠茶", "緑茶",
    "黄油", "黃油", "黄瓜", "黃瓜", "黄豆", "黃豆", "蛋黄", "蛋黃", "紫檀", "紫砂", "紫外线",
    "紫外線", "紫菜", "棕榈", "棕櫚", "灰尘", "灰塵", "石灰", "烟灰", "煙灰", "赤ちゃん", "赤字",
    "赤飯", "ホワイトデー", "ブラックフライデー", "블랙프라이데이", "紺碧",
)

# Languages written with spaces: base forms per language; each language inflects its own way
# (`_inflections`). Russian adjectives are listed in the masculine ("чёрный"), Arabic in the
# masculine and, where it is irregular, the feminine ("أسود", "سوداء"), Hindi in the masculine
# ("काला").
_WORD_COLOURS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "red": ("rojo", "granate", "burdeos"),
        "orange": ("naranja",),
        "yellow": ("amarillo", "dorado"),
        "green": ("verde",),
        "blue": ("azul", "celeste", "turquesa", "marino"),
        "purple": ("morado", "violeta", "lila"),
        "pink": ("rosa", "fucsia", "rosado"),
        "brown": ("marrón", "marron", "beige", "caqui"),
        "black": ("negro", "gris"),
        "white": ("blanco", "plateado", "plata"),
    },
    "pt": {
        "red": ("vermelho", "bordô"),
        "orange": ("laranja",),
        "yellow": ("amarelo", "dourado"),
        "green": ("verde",),
        "blue": ("azul",),
        "purple": ("roxo", "lilás"),
        "pink": ("rosa",),
        "brown": ("marrom", "castanho", "bege"),
        "black": ("preto", "cinza"),
        "white": ("branco", "prateado"),
    },
    "it": {
        "red": ("rosso", "bordeaux"),
        "orange": ("arancione",),
        "yellow": ("giallo", "oro"),
        "green": ("verde",),
        "blue": ("blu", "azzurro"),
        "purple": ("viola",),
        "pink": ("rosa",),
        "brown": ("marrone", "beige"),
        "black": ("nero", "grigio"),
        "white": ("bianco", "argento"),
    },
    "de": {
        "red": ("rot", "weinrot", "bordeaux"),
        "orange": ("orange",),
        "yellow": ("gelb", "gold", "golden"),
        "green": ("grün", "gruen", "oliv"),
        "blue": ("blau", "marineblau", "türkis"),
        "purple": ("lila", "violett"),
        "pink": ("rosa", "pink"),
        "brown": ("braun", "beige", "khaki"),
        "black": ("schwarz", "grau", "anthrazit"),
        "white": ("weiß", "weiss", "silber", "silbern"),
    },
    "fr": {
        "red": ("rouge", "bordeaux"),
        "orange": ("orange",),
        "yellow": ("jaune", "doré"),
        "green": ("vert", "kaki"),
        "blue": ("bleu", "marine", "turquoise"),
        "purple": ("violet",),
        "pink": ("rose", "fuchsia"),
        "brown": ("marron", "beige", "camel"),
        "black": ("noir", "gris"),
        "white": ("blanc", "argent", "argenté", "ivoire"),
    },
    "ru": {
        "red": ("красный", "бордовый", "алый", "вишнёвый"),
        "orange": ("оранжевый",),
        "yellow": ("жёлтый", "золотой", "золотистый"),
        "green": ("зелёный", "оливковый", "салатовый"),
        "blue": ("синий", "голубой", "бирюзовый"),
        "purple": ("фиолетовый", "сиреневый", "лиловый"),
        "pink": ("розовый",),
        "brown": ("коричневый", "бежевый"),
        "black": ("чёрный", "серый", "графитовый"),
        "white": ("белый", "серебристый", "серебряный"),
    },
    "ar": {
        "red": ("أحمر", "حمراء"),
        "orange": ("برتقالي",),
        "yellow": ("أصفر", "صفراء", "ذهبي"),
        "green": ("أخضر", "خضراء"),
        "blue": ("أزرق", "زرقاء", "كحلي"),
        "purple": ("بنفسجي",),
        "pink": ("وردي", "زهري"),
        "brown": ("بني", "بيج"),
        "black": ("أسود", "سوداء", "رمادي"),
        "white": ("أبيض", "بيضاء", "فضي"),
    },
    "hi": {
        "red": ("लाल",),
        "orange": ("नारंगी", "संतरी"),
        "yellow": ("पीला", "सुनहरा"),
        "green": ("हरा",),
        "blue": ("नीला", "आसमानी"),
        "purple": ("बैंगनी", "जामुनी"),
        "pink": ("गुलाबी",),
        "brown": ("भूरा",),
        "black": ("काला", "स्लेटी", "ग्रे"),
        "white": ("सफेद", "सफ़ेद"),
    },
}
# fmt: on
_GERMAN_SHADES = ("dunkel", "hell", "mittel", "tief")
# Irregular forms the endings below do not produce.
_LATIN_EXTRA = {
    "blanche": "white",
    "blanches": "white",
    "bianca": "white",
    "bianchi": "white",
    "bianche": "white",
    "violette": "purple",
    "violettes": "purple",
    "grise": "black",
    "grises": "black",
    "grigia": "black",
    "grigi": "black",
    "grigie": "black",
    "azules": "blue",
    "azuis": "blue",
}


_RU_HARD = ("ый", "ой", "ая", "ое", "ые", "ого", "ую", "ых", "ым", "ыми", "ому", "ом")
_RU_SOFT = ("ий", "яя", "ее", "ие", "его", "ей", "юю", "их", "им", "ими", "ему", "ем")


def _inflections(lang: str, word: str) -> list[str]:
    if lang == "ru":  # чёрный чёрная чёрное чёрные чёрного ...; синий синяя синее ...
        ends = _RU_SOFT if word.endswith("ий") else _RU_HARD
        forms = [word[:-2] + end for end in ends]
        return forms + [f.replace("ё", "е") for f in forms if "ё" in f]  # shops drop the dots
    if lang == "ar":  # أسود الأسود اسود; ذهبي ذهبية الذهبي
        forms = [word, word + "ة"] if word.endswith("ي") else [word]
        forms += ["ال" + f for f in forms]
        return forms + [f.replace("أ", "ا") for f in forms if "أ" in f]  # hamza often dropped
    if lang == "hi":  # काला काली काले
        return [word[:-1] + end for end in ("ा", "ी", "े")] if word.endswith("ा") else [word]
    # rojo roja rojos rojas; nero neri nere ("oro" stays: "ora", "ore" are words)
    if lang in ("es", "pt", "it") and word[-1] == "o" and word != "oro":
        return [word[:-1] + end for end in ("o", "a", "os", "as", "i", "e")]
    if lang == "de":  # rot rote roter rotes roten rotem; dunkelrot
        forms = [word + end for end in ("", "e", "er", "es", "en", "em")]
        return forms + [shade + f for shade in _GERMAN_SHADES for f in forms]
    if lang == "fr":  # noir noire noirs noires; doré dorée
        return [word + end for end in ("", "e", "s", "es")]
    return [word, word + "s", word + "es"]


@lru_cache(maxsize=1)
def _cjk_table() -> tuple[dict[str, str | None], int]:
    table: dict[str, str | None] = {
        fold(w): c
        for lexicon in (_CJK_COLOURS, _THAI_COLOURS)
        for c, words in lexicon.items()
        for w in words
    }
    table.update({fold(w): None for w in _CJK_NOT_COLOURS})
    return table, max(len(w) for w in table)


@lru_cache(maxsize=1)
def _latin_table() -> dict[str, str]:
    """Every accepted spelling -> colour. "or" (French gold) is left out on purpose: it is far
    more often the conjunction."""
    table: dict[str, str] = {fold(w): c for w, c in _LATIN_EXTRA.items()}
    for lang, lexicon in _WORD_COLOURS.items():
        for colour, words in lexicon.items():
            for word in words:
                for form in _inflections(lang, word):
                    table.setdefault(fold(form), colour)
    return table


# Scripts written without spaces: Hangul jamo, kana, Han, Hangul syllables, Thai.
_HAS_CJK = re.compile(
    "[\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def _words(text: str) -> list[str]:
    """Words: runs of letters with their combining marks (Devanagari vowel signs and Arabic
    vowels are marks, which a regex \\w would split a word at) and inner hyphens."""
    kept = "".join(
        ch if ch == "-" or ch.isalpha() or unicodedata.category(ch)[0] == "M" else " "
        for ch in text
    )
    return [w for w in (run.strip("-") for run in kept.split()) if w]


def cjk_colour(text: str) -> str | None:
    """The first colour an unspaced (Han, kana, Hangul, Thai) text names, longest entry first."""
    text = fold(text)
    table, longest = _cjk_table()
    i = 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            entry = text[i : i + n]
            if entry in table:
                colour = table[entry]
                if colour is not None:
                    return colour
                i += n - 1  # a non-colour word: skip all of it
                break
        i += 1
    return None


def latin_colour(text: str) -> str | None:
    """The first colour a text written with spaces (Latin, Cyrillic, Arabic, Devanagari) names,
    by whole words."""
    table = _latin_table()
    for word in _words(fold(text)):
        for part in (word, *word.split("-")):
            if part in table:
                return table[part]
    return None


def colour_in(text: str) -> str | None:
    """The first colour `text` names, in any of the lexicon languages, as a vocabulary word."""
    text = fold(text)
    if _HAS_CJK.search(text):
        # Titles mix scripts ("iPhone 16 黑色"); whichever colour comes first in the text wins.
        found = [
            (m.start(), c)
            for m in re.finditer(r"\S+", text)
            for c in [
                cjk_colour(m.group(0)) if _HAS_CJK.search(m.group(0)) else latin_colour(m.group(0))
            ]
            if c
        ]
        return found[0][1] if found else None
    return latin_colour(text)
