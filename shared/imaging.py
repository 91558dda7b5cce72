"""Small image utilities shared by the demo, reports and training (pure Pillow)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(
    items: Sequence[tuple[str, Image.Image]], cell: int = 240, columns: int = 5, title: str = ""
) -> Image.Image:
    """A grid of thumbnails (aspect kept) with a caption under each."""
    font = ImageFont.load_default(size=12)
    title_h = 28 if title else 0
    rows = max(1, -(-len(items) // columns))
    label_h = 30
    sheet = Image.new("RGB", (columns * cell, title_h + rows * (cell + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((8, 6), title, fill="black", font=ImageFont.load_default(size=16))
    for i, (label, img) in enumerate(items):
        r, c = divmod(i, columns)
        thumb = img.convert("RGB")
        thumb.thumbnail((cell - 10, cell - 10), Image.Resampling.LANCZOS)
        x0 = c * cell + (cell - thumb.width) // 2
        y0 = title_h + r * (cell + label_h) + (cell - thumb.height) // 2
        sheet.paste(thumb, (x0, y0))
        draw.rectangle([x0 - 1, y0 - 1, x0 + thumb.width, y0 + thumb.height], outline="#ccc")
        for j, line in enumerate(label.split("\n")[:2]):
            draw.text(
                (c * cell + 6, title_h + r * (cell + label_h) + cell + j * 14),
                line[:38],
                fill="#333",
                font=font,
            )
    return sheet
