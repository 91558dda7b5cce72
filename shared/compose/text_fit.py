"""Fit text into a box: wrap at word (or CJK character) boundaries, shrink, then ellipsise.

Widths are measured from the rendered ink box; heights from the font's ascent + descent plus
whatever ink pokes out above or below (stacked accents), kept as `top`/`bottom` padding, so lines
drawn with anchor "la" (or "ma") at y + top + i * line_height stay inside [y, y + height).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

from shared.compose.fonts import FontSpec, clusters

ELLIPSIS = "…"
# A CJK character is a token of its own: lines may break between any two of them.
_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"
)


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    font: FontSpec
    size: int
    line_height: int
    width: int
    truncated: bool = False
    top: int = 0  # ink above the first line's ascender (accented capitals), drawn as padding
    bottom: int = 0  # ink below the last line's descender

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines) + self.top + self.bottom


def line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


@lru_cache(maxsize=1 << 16)  # fitting re-measures the same strings at the same sizes a lot
def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    """Horizontal extent from the pen origin to the right edge of the ink (or advance)."""
    if not text:
        return 0
    left, _top, right, _bottom = font.getbbox(text)
    return math.ceil(max(right, font.getlength(text)) - min(0, left))


# Kinsoku (line-breaking rules of Chinese and Japanese): these never start a line (closing
# brackets, sentence punctuation, small kana, the prolonged-sound mark) ...
NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕〉》〗〙〛｝］”’〟…‥ー〜～％‰℃"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々ゝゞヽヾ"
    ",.!?:;)]}%"
)
# ... and these never end one (opening brackets, prefix currency signs).
NO_LINE_END = frozenset("（「『【〔〈《〖〘〚｛［“‘〝￥＄¥$([{")


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, preceded by whitespace) pairs: the units a line may break between."""
    raw: list[tuple[str, bool]] = []
    for m in _TOKEN.finditer(text):
        spaced = m.start() > 0 and text[m.start() - 1].isspace()
        # "Kinder-Regenjacke" may break after its hyphen.
        for i, piece in enumerate(re.split(r"(?<=\w-)(?=\w)", m.group(0))):
            raw.append((piece, spaced and i == 0))
    return _kinsoku(raw)


def _kinsoku(tokens: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Glue a closing mark to the token before it and an opening mark to the token after it,
    so that no break falls where kinsoku forbids one ("跑鞋」。" and "「新" stay together)."""
    out: list[tuple[str, bool]] = []
    for token, spaced in tokens:
        if out and not spaced and (token[0] in NO_LINE_START or out[-1][0][-1] in NO_LINE_END):
            out[-1] = (out[-1][0] + token, out[-1][1])
        else:
            out.append((token, spaced))
    return out


def _break_long(font: ImageFont.FreeTypeFont, word: str, width: int) -> list[str]:
    """`word` in pieces that fit `width`, broken without a hyphen between grapheme clusters, so
    a combining mark never starts a line apart from its letter."""
    pieces, current = [], ""
    for cluster in clusters(word):
        if current and text_width(font, current + cluster) > width:
            pieces.append(current)
            current = cluster
        else:
            current += cluster
    return [*pieces, current] if current else pieces


def wrap(
    font: ImageFont.FreeTypeFont, text: str, width: int, break_words: bool = True
) -> list[str] | None:
    """Greedy wrap. A word wider than the box is broken between characters, or, when
    `break_words` is false, the wrap fails (None) so the caller can try a smaller size."""
    lines: list[str] = []
    current = ""
    for token, spaced in _tokens(text):
        candidate = f"{current} {token}" if current and spaced else current + token
        if text_width(font, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if text_width(font, token) <= width:
            current = token
        elif not break_words:
            return None
        else:
            *full, current = _break_long(font, token, width)
            lines.extend(full)
    if current:
        lines.append(current)
    return lines


def _fitted(spec: FontSpec, lines: list[str], size: int, truncated: bool = False) -> FittedText:
    font = spec.at(size)
    lh = line_height(font)
    boxes = [font.getbbox(line, anchor="la") for line in lines]
    top = max(0, -math.floor(min(b[1] for b in boxes)))
    bottom = max(0, math.ceil(boxes[-1][3]) - lh)
    return FittedText(
        tuple(lines),
        spec,
        size,
        lh,
        max(text_width(font, ln) for ln in lines),
        truncated,
        top,
        bottom,
    )


def fit_at(
    spec: FontSpec, text: str, size: int, width: int, max_lines: int, break_words: bool = False
) -> FittedText | None:
    """The text wrapped at exactly `size`, or None when it needs more than `max_lines` (or a
    word would have to be split and `break_words` is false)."""
    font = spec.at(size)
    lines = wrap(font, text, width, break_words)
    if not lines or len(lines) > max_lines:
        return None
    return _fitted(spec, lines, size)


def ellipsise(font: ImageFont.FreeTypeFont, line: str, width: int) -> str:
    """The longest prefix of `line` that fits `width` with an ellipsis after it."""
    line = line.rstrip()
    while line and text_width(font, line + ELLIPSIS) > width:
        *kept, _last = clusters(line)  # whole clusters: no letter loses only its mark
        line = "".join(kept).rstrip()
    return line + ELLIPSIS if text_width(font, line + ELLIPSIS) <= width else ""


def sizes_between(max_size: int, min_size: int) -> list[int]:
    """Descending sizes from max to min, in steps of about 6 %, always ending at min."""
    sizes, size = [], max_size
    while size > min_size:
        sizes.append(size)
        size -= max(1, size // 16)
    return [*sizes, min_size]


def words_fit(spec: FontSpec, text: str, width: int, size: int) -> bool:
    """Whether every word (wrapping unit) of `text` fits `width` at `size`."""
    font = spec.at(size)
    return all(text_width(font, token) <= width for token, _ in _tokens(text))


def largest_unbroken_size(
    spec: FontSpec, text: str, width: int, max_size: int, min_size: int
) -> int:
    """The largest size (down to `min_size`) at which every word of `text` fits `width`."""
    for size in sizes_between(max_size, min_size):
        if words_fit(spec, text, width, size):
            return size
    return min_size


def _rest(text: str, kept: list[str]) -> str:
    """`text` after the characters of the `kept` lines (wrapping only drops whitespace)."""
    skip = sum(len(line.replace(" ", "")) for line in kept)
    i = 0
    while skip and i < len(text):
        if not text[i].isspace():
            skip -= 1
        i += 1
    return text[i:].strip()


def fit_text(
    spec: FontSpec,
    text: str,
    width: int,
    height: int,
    max_size: int,
    min_size: int,
    max_lines: int = 3,
    break_words: bool = True,
) -> FittedText | None:
    """Largest size in [min_size, max_size] at which `text` fits the box; else an ellipsised fit
    at `min_size`; None when not even one line of `min_size` fits. Words are split between
    letters only at `min_size`, and only if `break_words`."""
    text = " ".join(text.split())
    if not text or width <= 0:
        return None
    sizes = sizes_between(max_size, min_size)
    lo, hi, best = 0, len(sizes) - 2, None  # bisect for the largest size that fits
    while lo <= hi:
        mid = (lo + hi) // 2
        fitted = fit_at(spec, text, sizes[mid], width, max_lines)
        if fitted is not None and fitted.height <= height:
            best, hi = fitted, mid - 1
        else:
            lo = mid + 1
    if best is not None:
        return best
    for breaking in (False, True)[: 2 if break_words else 1]:
        fitted = fit_at(spec, text, min_size, width, max_lines, break_words=breaking)
        if fitted is not None and fitted.height <= height:
            return fitted
    font = spec.at(min_size)
    wrapped = wrap(font, text, width, break_words=False)
    if wrapped is None and break_words:
        wrapped = wrap(font, text, width)
    # It did not fit, so there are more wrapped lines than room: keep what fits and end the last
    # line with as much of the remaining text as fits before an ellipsis ("Ultra Lightwe…").
    for room in range(min(max_lines, len(wrapped or [])), 0, -1):
        lines = (wrapped or [])[: room - 1]
        last = ellipsise(font, _rest(text, lines), width)
        if not last:
            return None
        fitted = _fitted(spec, [*lines, last], min_size, truncated=True)
        if fitted.height <= height:
            return fitted
    return None
