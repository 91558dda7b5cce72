"""Finding a CJK face wherever it is installed, and the start-up font report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.compose import fonts
from shared.compose.fonts import MissingFontError, cjk_font, font_for, has_glyph


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
    assert [r.script for r in report] == ["latin", "cjk"]
    assert all(r.font for r in report)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


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
