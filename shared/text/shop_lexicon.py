"""Find the shops' product words (shop_words.py) in a title.

Han and kana titles have no spaces, so the title is scanned left to right taking the longest
word at each position, as the colour lexicon does; a compound in `BLOCKED` ("手机壳" phone case)
is taken whole and counts for nothing, so the product word inside it does not fire. A concept
scores the characters its words cover, and the first product word of the title counts twice.
Titles and words are folded first (NFKC and case folded: "T恤", "LED灯泡", full-width "ＬＥＤ"),
traditional characters simplified.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from shared.text.language import fold, non_latin
from shared.text.shop_words import BLOCKED, SHOP_WORDS
from shared.text.traditional import simplified

FLAVOUR = "味"  # right after a food word: what the product tastes of ("苹果味" apple-flavoured)


def _normal(text: str) -> str:
    """Folded (NFKC, case folded) and simplified characters, for titles and words alike: a
    Japanese word such as "電球" is written with characters that Chinese simplifies, and a title
    gets the same."""
    return simplified(fold(text))


@lru_cache(maxsize=1)
def lexicon() -> tuple[dict[str, tuple[str, ...]], int]:
    """word -> the concepts it names (empty for a blocked compound), and the longest word."""
    owners: dict[str, list[str]] = {}
    for concept, words in SHOP_WORDS.items():
        for word in map(_normal, words.split()):
            owners.setdefault(word, [])
            if concept not in owners[word]:
                owners[word].append(concept)
    for word in BLOCKED.split():
        owners.setdefault(_normal(word), [])
    table = {word: tuple(concepts) for word, concepts in owners.items()}
    return table, max(map(len, table))


def word_hits(title: str) -> Counter[str]:
    """concept -> how many characters of the title its shop words cover, the first word twice.
    Latin-only titles have none: the words are Chinese and Japanese, and a scan without word
    boundaries would find "cd" in any French word."""
    if not non_latin(title):
        return Counter()
    table, longest = lexicon()
    text = _normal(title)
    hits: Counter[str] = Counter()
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            concepts = table.get(text[i : i + size])
            if concepts is not None:
                if text[i + size : i + size + 1] == FLAVOUR:
                    concepts = ()
                # The first product word counts twice: it names the product, while later ones
                # are often what it fits or comes with ("鼠标 ... 笔记本电脑通用").
                weight = size if hits else 2 * size
                for concept in concepts:
                    hits[concept] += weight
                i += size
                break
        else:
            i += 1
    return hits
