"""Font files that exist without downloads, and the choice between Latin and CJK faces.

Latin text uses the DejaVu faces matplotlib ships. Chinese, Japanese and Korean use Noto Sans
CJK: from the system when installed (Debian fonts-noto-cjk, which has a bold face), else from the
`noto-cjk-sans-otc` wheel, a dependency, so a plain `pip install` renders CJK without root.
WenQuanYi and fonts in the usual font folders are found too. When no CJK face exists at all a
`MissingFontError` names the packages instead of silently drawing empty boxes, and
`check_fonts()` says so loudly when a worker starts.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
from PIL import ImageFont

# (regular, bold) at Debian's paths; the same file twice when there is no bold.
CJK_CANDIDATES: tuple[tuple[str, str], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    ),
)
_WQY: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",) * 2,
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",) * 2,
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
# Regular faces looked for by name in FONT_DIRS (other distributions, hand installs).
CJK_FILE_NAMES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKjp-Regular.otf",
    "NotoSansCJKsc-Regular.otf",
    "SourceHanSans-Regular.ttc",
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
)
CJK_PACKAGES = "fonts-noto-cjk or fonts-wqy-zenhei"
CJK_INSTALL = (
    "pip install noto-cjk-sans-otc (a dependency of adgen), or apt-get install fonts-noto-cjk"
)
# Face order inside the Noto Sans CJK collections: the region decides the glyph forms.
_NOTO_FACE = {"ja": 0, "ko": 1, "zh": 2, "zh-cn": 2, "zh-sg": 2, "zh-tw": 3, "zh-hk": 4, "zh-mo": 4}
# Han, kana, Hangul, CJK punctuation and full-width forms.
_CJK = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
# Scripts DejaVu lacks, with the Debian package and file names of faces that draw them. No
# wheel ships them, so without the package their letters are left out of an ad (drawable()).
SCRIPT_PACKAGES = "fonts-noto-core"
SCRIPT_FILES: dict[str, tuple[str, ...]] = {
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThaiUI-Regular.ttf", "NotoSerifThai-Regular.ttf"),
    "devanagari": (
        "NotoSansDevanagari-Regular.ttf",
        "NotoSansDevanagariUI-Regular.ttf",
        "NotoSerifDevanagari-Regular.ttf",
    ),
}
_SCRIPT_CHARS = {
    "thai": re.compile("[\u0e00-\u0e7f]"),
    "devanagari": re.compile("[\u0900-\u097f\ua8e0-\ua8ff]"),
}
log = logging.getLogger(__name__)


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
_ZWJ = "\u200d"


@lru_cache(maxsize=16)
def _basic(path: str, index: int) -> ImageFont.FreeTypeFont:
    """The face without Raqm: one code point is one glyph from the character map, so a
    character the face lacks draws .notdef (Raqm would draw a combining mark it lacks on a
    dotted circle instead, and that differs from .notdef)."""
    return ImageFont.truetype(path, size=24, index=index, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=16)
def _notdef_mask(path: str, index: int) -> bytes:
    return bytes(_basic(path, index).getmask(_NOT_A_CHARACTER))


@lru_cache(maxsize=1 << 14)
def has_glyph(spec: FontSpec, char: str) -> bool:
    """Whether the face's character map has `char` (it draws something other than its
    "missing glyph" box when looked up on its own, without shaping)."""
    if char.isspace():
        return True
    return bytes(_basic(spec.path, spec.index).getmask(char)) != _notdef_mask(spec.path, spec.index)


def _extends(char: str) -> bool:
    """Whether `char` belongs to the cluster before it: combining marks (M*: accents, Thai
    and Devanagari vowel signs and tone marks, variation selectors, the keycap U+20E3), the
    zero-width joiner, emoji skin tones and tag characters."""
    return (
        unicodedata.category(char)[0] == "M"
        or char == _ZWJ
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def clusters(text: str) -> Iterator[str]:
    """`text` in grapheme clusters (simplified): a base character with the marks after it, and
    whatever a zero-width joiner joins to it ("🏃\u200d♀️" is one)."""
    cluster, joined = "", False
    for char in text:
        if cluster and (joined or _extends(char)):
            cluster += char
        else:
            if cluster:
                yield cluster
            cluster = char
        joined = char == _ZWJ
    if cluster:
        yield cluster


def drawable(text: str, spec: FontSpec) -> str:
    """`text` without what `spec` cannot draw (emoji in a title, for instance), so an ad never
    shows "tofu" boxes or marks on dotted circles: a cluster whose base character the face
    lacks goes whole (a Thai letter with its vowel and tone marks), else only the marks it
    lacks ("1️⃣" keeps its "1", not the keycap); whitespace left behind is collapsed."""
    kept = []
    for cluster in clusters(text):
        base = cluster[0]
        if base.isspace():
            kept.append(base)  # a mark on a space would sit on a dotted circle
        elif not _extends(base) and has_glyph(spec, base):
            kept.append(base + "".join(c for c in cluster[1:] if has_glyph(spec, c)))
    return " ".join("".join(kept).split())


def _packaged_cjk() -> tuple[tuple[str, str], ...]:
    try:
        path = str(importlib.resources.files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc")
    except ModuleNotFoundError:
        return ()
    return ((path, path),)


def _scanned_cjk() -> tuple[tuple[str, str], ...]:
    found = []
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for name in CJK_FILE_NAMES:
            for regular in sorted(root.rglob(name)):
                bold = regular.with_name(regular.name.replace("Regular", "Bold"))
                found.append((str(regular), str(bold if bold.exists() else regular)))
    return tuple(found)


@lru_cache(maxsize=1)
def cjk_candidates() -> tuple[tuple[str, str], ...]:
    """Installed CJK faces, best first: Noto with a bold face, packaged Noto, WenQuanYi, then
    anything known found in the font folders."""
    every = CJK_CANDIDATES + _packaged_cjk() + _WQY + _scanned_cjk()
    return tuple(pair for pair in dict.fromkeys(every) if Path(pair[0]).exists())


def _face_index(path: str, locale: str) -> int:
    if not Path(path).name.startswith("NotoSansCJK-"):
        return 0  # single-region files and WenQuanYi: the first face is the sans one
    tag = locale.lower().replace("_", "-")
    return _NOTO_FACE.get(tag, _NOTO_FACE.get(tag[:2], 0))


def cjk_font(bold: bool = False, locale: str = "") -> FontSpec:
    """The best installed CJK face, in `locale`'s regional glyph forms where the font has them."""
    if found := cjk_candidates():
        regular, heavy = found[0]
        path = heavy if bold else regular
        return FontSpec(path, _face_index(path, locale))
    raise MissingFontError(
        f"Chinese/Japanese/Korean text needs a CJK font: {CJK_INSTALL} "
        f"(Debian packages: {CJK_PACKAGES})"
    )


def cjk_available() -> bool:
    try:
        cjk_font()
    except MissingFontError:
        return False
    return True


def needs_cjk(text: str, locale: str = "") -> bool:
    return locale[:2].lower() in ("ja", "zh") or bool(_CJK.search(text))


@lru_cache(maxsize=1)
def _scanned_scripts() -> dict[str, tuple[tuple[str, str], ...]]:
    found: dict[str, list[tuple[str, str]]] = {script: [] for script in SCRIPT_FILES}
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for script, names in SCRIPT_FILES.items():
            for name in names:
                for regular in sorted(root.rglob(name)):
                    bold = regular.with_name(regular.name.replace("Regular", "Bold"))
                    found[script].append((str(regular), str(bold if bold.exists() else regular)))
    return {script: tuple(dict.fromkeys(pairs)) for script, pairs in found.items()}


def script_font(script: str, bold: bool = False) -> FontSpec | None:
    """An installed face for `script` ("thai", "devanagari"), or None."""
    if found := _scanned_scripts().get(script):
        regular, heavy = found[0]
        return FontSpec(heavy if bold else regular)
    return None


def _visible(text: str) -> int:
    return sum(not c.isspace() for c in text)


def font_for(text: str, locale: str, bold: bool = False, serif: bool = False) -> FontSpec:
    """The face that can draw `text` for `locale`: CJK when either asks for it; for Thai or
    Devanagari text an installed face of that script when it draws more of the text than
    DejaVu (a script face may lack Latin letters); else DejaVu."""
    if needs_cjk(text, locale):
        return cjk_font(bold, locale)
    latin = latin_font(bold, serif)
    for script, chars in _SCRIPT_CHARS.items():
        face = script_font(script, bold) if chars.search(text) else None
        if face and _visible(drawable(text, face)) > _visible(drawable(text, latin)):
            return face
    return latin


@dataclass(frozen=True)
class ScriptSupport:
    """Whether ads in one script can be rendered, and with which face."""

    script: str
    locales: str
    font: str | None  # "path#face" that draws the sample, None when nothing does
    fix: str = ""  # how to get a font, when none
    optional: bool = False  # without a font its letters are left out; nothing fails


_SAMPLES = {
    "latin": ("Latin (en, de, fr, es, …)", "Aa€ßéñ"),
    "cjk": ("Chinese, Japanese, Korean (zh-*, ja-JP)", "中文日本語かな한국"),
    "thai": ("Thai (th-TH)", "กขคภาษาไทย"),
    "devanagari": ("Devanagari (hi-IN, mr-IN, ne-NP)", "कखगहिन्दी"),
}
_FIXES = {
    "latin": "reinstall matplotlib",
    "cjk": CJK_INSTALL,
    "thai": f"apt-get install {SCRIPT_PACKAGES}",
    "devanagari": f"apt-get install {SCRIPT_PACKAGES}",
}


def _drawing_face(script: str) -> FontSpec | None:
    sample = _SAMPLES[script][1]
    try:
        if script == "latin":
            spec: FontSpec | None = latin_font()
        elif script == "cjk":
            spec = cjk_font()
        else:
            spec = script_font(script)
        if spec is None:
            return None
        # The face the composer picks for the sample must draw every letter of it.
        ok = Path(spec.path).exists() and all(has_glyph(spec, c) for c in sample)
        if ok and script in _SCRIPT_CHARS:
            ok = font_for(sample, "") == spec
    except (MissingFontError, OSError):
        return None
    return spec if ok else None


def font_report() -> list[ScriptSupport]:
    """Which scripts this process can render: each face is checked by drawing a sample, not
    only by the file existing. Thai and Devanagari are optional: without a face their letters
    are left out of an ad rather than failing it."""
    report = []
    for script, (locales, _) in _SAMPLES.items():
        spec = _drawing_face(script)
        report.append(
            ScriptSupport(
                script,
                locales,
                f"{spec.path}#{spec.index}" if spec else None,
                "" if spec else _FIXES[script],
                optional=script in _SCRIPT_CHARS,
            )
        )
    return report


def check_fonts(logger: logging.Logger = log, *, strict: bool = False) -> list[ScriptSupport]:
    """Log the font report at start-up: INFO per renderable script, CRITICAL naming the install
    command for each that is not (its events would fail with MissingFontError). `strict` raises
    instead, for a worker that should refuse to start. A missing optional script (Thai,
    Devanagari) is a WARNING naming its Debian package and never raises."""
    report = font_report()
    for item in report:
        if item.font:
            logger.info("fonts: %s rendered with %s", item.script, item.font)
        elif item.optional:
            logger.warning(
                "fonts: no font for %s: %s titles are drawn without its letters;"
                " install a font: %s",
                item.script,
                item.locales,
                item.fix,
            )
        else:
            logger.critical(
                "fonts: cannot render %s: %s events will fail with MissingFontError;"
                " install a font: %s",
                item.script,
                item.locales,
                item.fix,
            )
    missing = [item.script for item in report if not item.font and not item.optional]
    if strict and missing:
        raise MissingFontError(f"no font for {', '.join(missing)}: {CJK_INSTALL}")
    return report
