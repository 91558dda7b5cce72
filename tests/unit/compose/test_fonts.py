"""Finding a CJK face wherever it is installed, and the start-up font report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.compose import fonts
from shared.compose.fonts import (
    MissingFontError,
    cjk_font,
    drawable,
    font_for,
    has_glyph,
    latin_font,
    script_font,
)


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a machine without root: no Debian font packages, empty font folders."""
    monkeypatch.setattr(fonts, "CJK_CANDIDATES", ())
    monkeypatch.setattr(fonts, "_WQY", ())
    monkeypatch.setattr(fonts, "FONT_DIRS", ())
    fonts.cjk_candidates.cache_clear()
    yield
    fonts.cjk_candidates.cache_clear()


def test_packaged_noto_renders_cjk_without_system_fonts(no_system_fonts: None) -> None:
    # The noto-cjk-sans-otc wheel is a dependency: a pip install alone can render CJK.
    spec = cjk_font()
    assert Path(spec.path).name == "NotoSansCJK-Regular.ttc" and "site-packages" in spec.path
    assert all(has_glyph(spec, c) for c in "日本語中文かな한국")
    assert cjk_font(bold=True).path == spec.path  # no bold in the wheel: regular stands in


@pytest.mark.parametrize(
    ("locale", "face"),
    [
        ("ja-JP", "Noto Sans CJK JP"),
        ("zh-CN", "Noto Sans CJK SC"),
        ("zh-TW", "Noto Sans CJK TC"),
        ("zh-HK", "Noto Sans CJK HK"),
        ("zh", "Noto Sans CJK SC"),
        ("", "Noto Sans CJK JP"),
    ],
)
def test_chinese_gets_its_regional_glyph_forms(locale: str, face: str) -> None:
    spec = cjk_font(locale=locale)
    if not Path(spec.path).name.startswith("NotoSansCJK-"):
        pytest.skip(f"the CJK face here is not a Noto Sans CJK collection: {spec.path}")
    assert spec.at(20).getname()[0] == face
    assert font_for("标题", locale or "en-US") == spec


def test_fonts_in_font_folders_are_found(
    no_system_fonts: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = fonts._packaged_cjk()[0][0]
    folder = tmp_path / "fonts" / "noto"
    folder.mkdir(parents=True)
    (folder / "NotoSansCJKsc-Regular.otf").symlink_to(packaged)
    (folder / "NotoSansCJKsc-Bold.otf").symlink_to(packaged)
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path / "fonts"),))
    monkeypatch.setattr(fonts, "_packaged_cjk", lambda: ())
    fonts.cjk_candidates.cache_clear()
    assert cjk_font().path == str(folder / "NotoSansCJKsc-Regular.otf")
    assert cjk_font(bold=True).path == str(folder / "NotoSansCJKsc-Bold.otf")
    assert cjk_font(locale="zh-TW").index == 0  # a single-region file has one face


def test_report_and_check_when_fonts_are_there(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        report = fonts.check_fonts(strict=True)
    assert [r.script for r in report] == ["latin", "cjk", "thai", "devanagari"]
    assert all(r.font for r in report if not r.optional)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_missing_cjk_font_is_critical_and_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fonts, "cjk_candidates", lambda: ())
    report = {r.script: r for r in fonts.font_report()}
    assert report["latin"].font and report["cjk"].font is None
    assert "pip install noto-cjk-sans-otc" in report["cjk"].fix
    with caplog.at_level(logging.INFO):
        fonts.check_fonts()
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert (
        len(critical) == 1
        and "cjk" in critical[0]
        and "apt-get install fonts-noto-cjk" in (critical[0])
        and "ja-JP" in critical[0]
    )
    with pytest.raises(MissingFontError, match="no font for cjk"):
        fonts.check_fonts(strict=True)


def test_a_font_file_without_the_glyphs_does_not_count(monkeypatch: pytest.MonkeyPatch) -> None:
    latin = str(fonts.latin_font().path)  # exists, but has no Han or kana
    monkeypatch.setattr(fonts, "cjk_candidates", lambda: ((latin, latin),))
    report = {r.script: r for r in fonts.font_report()}
    assert report["cjk"].font is None


THAI = "กระเป๋าถือหนังผู้หญิงสีดำ"
HINDI = "महिलाओं का चमड़े का हैंडबैग"


@pytest.fixture
def no_script_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Thai or Devanagari face installed (fonts-noto-core missing), as on this image."""
    monkeypatch.setattr(fonts, "_scanned_scripts", lambda: {"thai": (), "devanagari": ()})


def test_coverage_comes_from_the_character_map_not_shaping(no_script_fonts: None) -> None:
    # Raqm draws a combining mark the face lacks on a dotted circle, which is not .notdef.
    spec = latin_font(bold=True)
    assert not any(has_glyph(spec, c) for c in "\u0e4b\u0e49\u0e34\u093f\u0902\u20e3")
    assert all(has_glyph(spec, c) for c in "Aé€ß1\u0301")


@pytest.mark.parametrize("title", [THAI, HINDI])
def test_scripts_without_a_font_leave_no_lone_marks(no_script_fonts: None, title: str) -> None:
    spec = font_for(title, "en-US", bold=True)
    assert spec == latin_font(bold=True)
    assert drawable(title, spec) == ""
    assert drawable(f"Nike {title} 42", spec) == "Nike 42"


def test_clusters_lose_only_the_marks_the_face_lacks() -> None:
    spec = latin_font(bold=True)
    assert drawable("Cafe\u0301 1\ufe0f\u20e3 Top", spec) == "Cafe\u0301 1\ufe0f Top"
    assert "\u20e3" not in drawable("1️⃣ Bestseller", spec)
    # A joined emoji sequence goes whole: no stray "♀" after the runner is dropped.
    assert drawable("Shoe 🏃\u200d♀️ Limited", spec) == "Shoe Limited"
    assert drawable("\u0301Mug", spec) == "Mug"  # a mark with no letter before it


def test_missing_script_fonts_are_reported_with_their_package_and_never_fail(
    no_script_fonts: None, caplog: pytest.LogCaptureFixture
) -> None:
    report = {r.script: r for r in fonts.font_report()}
    for script in ("thai", "devanagari"):
        assert report[script].font is None and report[script].optional
        assert "fonts-noto-core" in report[script].fix
    with caplog.at_level(logging.INFO):
        fonts.check_fonts(strict=True)  # does not raise: their letters are only left out
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("fonts-noto-core" in w for w in warnings)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_installed_script_face_is_used_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    # No Thai face here: the packaged CJK collection (which has Hangul, not Thai) stands in to
    # show the choice follows coverage; a face drawing nothing of the text is never picked.
    cjk = cjk_font().path
    monkeypatch.setattr(
        fonts, "_scanned_scripts", lambda: {"thai": ((cjk, cjk),), "devanagari": ()}
    )
    assert script_font("thai") == fonts.FontSpec(cjk)
    assert font_for(THAI, "en-US") == latin_font()
    report = {r.script: r for r in fonts.font_report()}
    assert report["thai"].font is None  # it cannot draw the Thai sample
