"""The catalog directory format shared by the builder, training, evaluation and the worker.

A catalog is a directory holding ``images/`` and ``metadata.jsonl``; each line is one image:
``{"file_name": "images/x.png", "captions": [...], "category": "bags", "split": "train",
"concept": "handbag", "style": "openmoji"}``.  ``concept`` and ``style`` are optional.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

METADATA = "metadata.jsonl"
SPLITS = ("train", "val", "test")
# One resampling filter everywhere (training, evaluation, serving) so statistics agree.
RESIZE_FILTER = Image.Resampling.LANCZOS


@dataclass
class CatalogItem:
    file_name: str
    captions: list[str]
    category: str
    split: str = "train"
    concept: str | None = None
    style: str | None = None
    root: Path | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> Path:
        return (self.root or Path(".")) / self.file_name

    @property
    def caption(self) -> str:
        return self.captions[0]

    def to_json(self) -> dict[str, object]:
        record = {k: v for k, v in asdict(self).items() if k != "root"}
        return {k: v for k, v in record.items() if v is not None}


def split_for(concept: str, val_pct: int = 10, test_pct: int = 10) -> str:
    """Deterministic split from a hash of the concept, so every variant of it lands together."""
    bucket = int(hashlib.sha256(concept.encode("utf-8")).hexdigest()[:8], 16) % 100
    if bucket < test_pct:
        return "test"
    if bucket < test_pct + val_pct:
        return "val"
    return "train"


def load_catalog(directory: str | Path, split: str | None = None) -> list[CatalogItem]:
    root = Path(directory)
    items: list[CatalogItem] = []
    with open(root / METADATA, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            captions = rec.get("captions") or ([rec["caption"]] if "caption" in rec else [])
            if not captions:
                raise ValueError(f"{root / METADATA}:{line_no}: no captions")
            item = CatalogItem(
                file_name=rec["file_name"],
                captions=[str(c) for c in captions],
                category=rec.get("category", "other"),
                split=rec.get("split", "train"),
                concept=rec.get("concept"),
                style=rec.get("style"),
                root=root,
            )
            if split is None or item.split == split:
                items.append(item)
    return items


def write_metadata(directory: str | Path, items: list[CatalogItem]) -> Path:
    path = Path(directory) / METADATA
    with open(path, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
    return path


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Composite transparent images on a solid background; everything else becomes RGB."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, background + (255,))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def load_image(item_or_path: CatalogItem | str | Path, size: int) -> Image.Image:
    """Load an image as RGB at ``size`` x ``size`` (non-square images are padded white, centred)."""
    path = item_or_path.path if isinstance(item_or_path, CatalogItem) else Path(item_or_path)
    with Image.open(path) as im:
        rgb = to_rgb(im)
    if rgb.width != rgb.height:
        side = max(rgb.size)
        square = Image.new("RGB", (side, side), (255, 255, 255))
        square.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
        rgb = square
    if rgb.size != (size, size):
        rgb = rgb.resize((size, size), RESIZE_FILTER)
    return rgb
