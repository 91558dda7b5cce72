"""Cheap script and language hints for shop titles: enough to route a title, not a language ID.

Non-Latin letters (Han, kana, Hangul, Cyrillic, ...) are certain. For Latin script, letters
English does not use, or a function or audience word of Spanish, Portuguese, Italian, German or
French ("para", "für", "pour", "Herren", "mujer"), mark a title as not English.

`fold` is the one normal form that titles and lexicon words are compared in: NFKC (composed
accents and Hangul, full-width "ＲＥＤ" as "RED", half-width katakana as full-width) and case
folded. It is for matching only; the ad shows the shop's title as written.
"""

from __future__ import annotations

import re
import unicodedata

_NON_LATIN = re.compile(r"[^\W\d_](?<![A-Za-z\u00c0-\u024f])")
_NON_ENGLISH_LETTERS = re.compile(r"[àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœ]", re.IGNORECASE)
# Only words English titles do not use ("set", "die", "lot", "per" are left out on purpose).
# fmt: off
_FOREIGN_WORDS = frozenset((
    "de", "del", "las", "los", "para", "por", "hombre", "mujer", "hombres", "mujeres", "niño",
    "niña", "niños", "talla",  # es
    "das", "dos", "com", "sem", "feminino", "masculino", "tamanho",  # pt
    "della", "delle", "uomo", "donna", "bambino", "bambina", "taglia",  # it
    "und", "mit", "für", "fur", "ohne", "der", "zum", "zur", "herren", "damen", "kinder",
    "größe", "grosse",  # de
    "et", "avec", "pour", "sans", "les", "des", "du", "aux", "homme", "femme", "enfant", "taille",
    "pointure",  # fr
))
# fmt: on


def compose(text: str) -> str:
    """NFKC: a decomposed "marro\u0301n" or Hangul jamo become the letters a lexicon lists, and
    full-width or half-width forms their usual ones. Case is kept (the encoder reads it)."""
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """`compose`, then case folded: the form titles and lexicon words are matched in."""
    return compose(text).casefold()


def non_latin(text: str) -> bool:
    """Whether `text` has letters outside the Latin script."""
    return bool(_NON_LATIN.search(text))


def looks_foreign(text: str) -> bool:
    """Whether a title is (probably) not English: non-Latin letters, letters English does not
    use, or a common Spanish/Portuguese/Italian/German/French function or audience word."""
    if non_latin(text) or _NON_ENGLISH_LETTERS.search(text):
        return True
    return any(word in _FOREIGN_WORDS for word in re.findall(r"[a-z]+", text.lower()))
