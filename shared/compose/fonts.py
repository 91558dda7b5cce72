"""Font files that exist without downloads, and the choice between Latin and CJK faces.

Latin text uses the DejaVu faces matplotlib ships. Chinese and Japanese need a CJK face from the
system (Debian: fonts-wqy-zenhei or fonts-noto-cjk); when none is installed a `MissingFontError`
names the packages instead of silently drawing empty boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
from PIL import ImageFont

CJK_CANDIDATES: tuple[tuple[str, str], ...] = (  # (regular, bold); the same file when no bold
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",) * 2,
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",) * 2,
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
     "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc"),
)
CJK_PACKAGES = "fonts-wqy-zenhei or fonts-noto-cjk"
# Han, kana, Hangul, CJK punctuation and full-width forms.
_CJK = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


class MissingFontError(LookupError):
    """No installed font can draw the requested script."""


@dataclass(frozen=True)
class FontSpec:
    path: str
    index: int = 0  # face index inside a .ttc collection

    def at(self, size: int) -> ImageFont.FreeTypeFont:
        return _load(self.path, self.index, size)


@lru_cache(maxsize=512)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size=size, index=index)


def _dejavu_dir() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=8)  # called for every text element; path building showed up in profiles
def latin_font(bold: bool = False, serif: bool = False) -> FontSpec:
    family = "DejaVuSerif" if serif else "DejaVuSans"
    return FontSpec(str(_dejavu_dir() / f"{family}{'-Bold' if bold else ''}.ttf"))


_NOT_A_CHARACTER = "\U0010fffd"  # private use: no font we use maps it, so it draws .notdef


@lru_cache(maxsize=8)
def _notdef_mask(path: str, index: int) -> bytes:
    return bytes(_load(path, index, 24).getmask(_NOT_A_CHARACTER))


@lru_cache(maxsize=1 << 14)
def has_glyph(spec: FontSpec, char: str) -> bool:
    """Whether the face draws `char` as itself rather than its "missing glyph" box."""
    if char.isspace():
        return True
    return bytes(spec.at(24).getmask(char)) != _notdef_mask(spec.path, spec.index)


def drawable(text: str, spec: FontSpec) -> str:
    """`text` without the characters `spec` cannot draw (emoji in a title, for instance), so an
    ad never shows "tofu" boxes; whitespace left behind is collapsed."""
    kept = "".join(c for c in text if has_glyph(spec, c))
    return " ".join(kept.split())


def cjk_font(bold: bool = False) -> FontSpec:
    for regular, heavy in CJK_CANDIDATES:
        path = heavy if bold and Path(heavy).exists() else regular
        if Path(path).exists():
            return FontSpec(path)
    raise MissingFontError(
        f"Chinese/Japanese text needs a CJK font; install the Debian package {CJK_PACKAGES} "
        f"(looked in: {', '.join(c[0] for c in CJK_CANDIDATES)})")


def cjk_available() -> bool:
    try:
        cjk_font()
    except MissingFontError:
        return False
    return True


def needs_cjk(text: str, locale: str = "") -> bool:
    return locale[:2].lower() in ("ja", "zh") or bool(_CJK.search(text))


def font_for(text: str, locale: str, bold: bool = False, serif: bool = False) -> FontSpec:
    """The face that can draw `text` for `locale`: CJK when either asks for it, else DejaVu."""
    if needs_cjk(text, locale):
        return cjk_font(bold)
    return latin_font(bold, serif)
