"""A shop title in any language -> the catalog concept (caption noun) it sells.

The multilingual encoder scores the title against every concept name (shared.text.concept_index)
twice: the whole title, and each of its chunks (words, script runs, and the last two and three
characters of a long Han run, where Chinese puts the head noun: "轻便透气跑步鞋" -> "跑步鞋").
A concept's score is the best of its names; the final score adds the best chunk to three times
the whole-title score, so that one stray chunk ("礼盒" gift box) cannot outvote the title.
Numbers with their units ("41码", "500ml", "18V", "2026"), multipliers ("x 24") and bare colour
words are dropped first; the title is taken in NFKC form (shared.text.language.compose).
The weights were chosen on the labelled set; docs/multilingual.md records how.

Before the encoder, the title is scanned for the shops' own product words (shop_words.py,
longest match at each position, traditional characters simplified first): when they name
concepts, the concept named by the most characters of the title wins ("跑步鞋 ... 运动鞋" beats
one "电脑包"), ties going to the encoder's score. Only titles that name no shop word are left
to the encoder alone, and below `NONE_BELOW` it answers "none of these".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from shared.text.colour_words import cjk_colour, latin_colour
from shared.text.concept_index import ConceptIndex, get_index
from shared.text.language import compose, non_latin
from shared.text.multilingual import get_encoder
from shared.text.shop_lexicon import word_hits

TITLE_WEIGHT = 3.0
# Encoder score (best chunk + 3 x title, at most 4) under which a Han/kana title that names no
# shop word is "none of these": the highest that kept every in-catalog title of the first set
# (their lowest: 3.542; the out-of-catalog ones there score 3.47-3.60, so about half are
# declined). Latin titles were not calibrated and are never declined. docs/multilingual.md.
NONE_BELOW = 3.53
# Numbers with their units, and a bare multiplier ("330ml x 24", "2x"): `without_numbers`. Latin
# units only count when no Latin letter follows ("5 large" keeps its "l", "2 men" its "m").
_LATIN_UNITS = (
    "mah|kwh|wh|mhz|ghz|khz|hz|ml|cl|dl|mm|cm|km|kg|mg|gb|tb|mb|oz|lbs|lb|pcs|pc|pack|pk|inch|in"
    "|ft|kw|l|g|m|v|w|k"
)
_CJK_UNITS = "英寸|インチ|码|碼|寸|吋|米|斤|个|個|支|双|雙|包|袋|罐|只|本|片|号|號|入|色"
_NOT_LATIN_LETTER = r"(?![a-z\u00c0-\u024f])"
_NUMBER = re.compile(
    r"(?:(?<![a-z\u00c0-\u024f])[x×]\s*(?=\d))?\d+(?:[.,]\d+)?"
    rf"\s*(?:(?:{_LATIN_UNITS}){_NOT_LATIN_LETTER}|{_CJK_UNITS})?"
    rf"(?:\s*[x×]{_NOT_LATIN_LETTER})?",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s,.;:!?，。、/|\\【】\[\]()（）「」『』*+%×〜~&]+")
_RUNS = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[\u3040-\u309f]+|[\u30a0-\u30ff]+|"
    r"[\uac00-\ud7af]+|[^\W\d_]+(?:['’-][^\W\d_]+)*"
)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_WORDS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class NounMatch:
    noun: str  # a catalog concept's caption noun, e.g. "running shoe"
    score: float
    chunk: str  # the chunk that scored best for it (for explaining a match)


def _is_colour(chunk: str) -> bool:
    """A chunk that only names a colour ("黑色", "冰川白", "ブラック", "Negras"), which would
    otherwise match colour-named concepts ("black nib")."""
    if _HAN.search(chunk) or _KANA.search(chunk) or _HANGUL.search(chunk):
        return (
            len(chunk) <= 4
            and cjk_colour(chunk) is not None
            and (
                chunk[-1] == "色"
                or cjk_colour(chunk[-1]) is not None
                or cjk_colour(chunk[-2:]) is not None
            )
        )
    return latin_colour(chunk) is not None and len(_WORDS.findall(chunk)) == 1


def without_numbers(text: str) -> str:
    """`text` without numbers, their units and multipliers: "Water Bottle 750ml" -> "Water
    Bottle ", "330ml x 24 cans" -> "   cans", "drill 18V" -> "drill "."""
    return _NUMBER.sub(" ", text)


def title_chunks(title: str) -> list[str]:
    """The title's candidate product words, in order, without numbers or bare colour words."""
    out: list[str] = []
    for piece in _SEPARATORS.split(without_numbers(compose(title))):
        for run in _RUNS.findall(piece):
            out.append(run)
            if _HAN.search(run) and not _KANA.search(run) and len(run) > 3:
                out += [run[-2:], run[-3:]]
    return [c for c in dict.fromkeys(out) if len(c) >= 2 and not _is_colour(c)]


@lru_cache(maxsize=4)
def _grouping(index: ConceptIndex) -> tuple[np.ndarray, np.ndarray]:
    """Column order that puts each concept's names together, and where each group starts."""
    ids = {c: i for i, c in enumerate(index.concepts)}
    owner = np.array([ids[o] for o in index.owners])
    order = np.argsort(owner, kind="stable")
    starts = np.r_[0, np.cumsum(np.bincount(owner, minlength=len(ids)))[:-1]]
    return order, starts


def _per_concept(scores: np.ndarray, index: ConceptIndex) -> np.ndarray:
    """[n, names] -> [n, concepts]: a concept scores its best name."""
    order, starts = _grouping(index)
    return np.maximum.reduceat(scores[:, order], starts, axis=1)


def _encoder_scores(
    title: str, chunks: list[str], index: ConceptIndex
) -> tuple[np.ndarray, np.ndarray]:
    """(total score per concept, chunk x concept scores): best chunk + TITLE_WEIGHT x title."""
    encoder = get_encoder()
    whole = _per_concept(encoder.encode([title]) @ index.vectors.T, index)
    parts = _per_concept(encoder.encode(chunks) @ index.vectors.T, index)
    return parts.max(axis=0) + TITLE_WEIGHT * whole[0], parts


def match_noun(title: str, index: ConceptIndex | None = None) -> NounMatch | None:
    """The catalog concept `title` sells, or None: a title with no words at all, or one that
    names no shop word and is not close enough to any concept (an out-of-catalog product)."""
    index = index or get_index()
    title = compose(title)  # NFD accents and Hangul jamo, full-width letters: the usual forms
    hits = word_hits(title)
    if hits:
        most = max(hits.values())
        tied = [c for c, n in hits.items() if n == most and c in index.concepts]
        if len(tied) == 1:
            return NounMatch(tied[0], float(most), "")
    chunks = title_chunks(title)
    if not chunks:
        return None
    total, parts = _encoder_scores(title, chunks, index)
    concepts = index.concepts
    if hits and tied:
        best = max((concepts.index(c) for c in tied), key=lambda i: float(total[i]))
    else:
        best = int(total.argmax())
        if total[best] < NONE_BELOW and non_latin(title):
            return None
    return NounMatch(concepts[best], float(total[best]), chunks[int(parts[:, best].argmax())])


@lru_cache(maxsize=4096)
def product_noun(title: str) -> str | None:
    """`match_noun` for the default index, cached by title (plans ask once per variant)."""
    found = match_noun(title)
    return found.noun if found else None
