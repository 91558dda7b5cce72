"""`adgen demo --out`: an image path is kept, anything else is a directory for the sheet."""

from __future__ import annotations

from pathlib import Path

from workers.demo import contact_sheet_path


def test_image_paths_are_kept_and_other_paths_are_directories(tmp_path: Path) -> None:
    assert contact_sheet_path(tmp_path / "sheet.PNG") == tmp_path / "sheet.PNG"
    assert contact_sheet_path(tmp_path / "s.webp") == tmp_path / "s.webp"
    assert contact_sheet_path(tmp_path / "demo7") == tmp_path / "demo7" / "contact_sheet.png"
    assert contact_sheet_path(tmp_path) == tmp_path / "contact_sheet.png"
