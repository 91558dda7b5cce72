"""Catalog splits as tensors for the evaluator: uint8 images, caption lists, categories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from shared.catalog.format import CatalogItem, load_catalog, load_image


@dataclass
class SplitData:
    items: list[CatalogItem]
    images: torch.Tensor  # [N, 3, S, S] uint8

    @property
    def captions(self) -> list[list[str]]:
        return [it.captions for it in self.items]

    @property
    def concepts(self) -> list[str]:
        # Variants of one concept (colours, backgrounds) share it; mismatching captions for
        # retrieval are drawn from *other* concepts so "grapes" never counts against grapes.
        return [it.concept or it.caption for it in self.items]

    @property
    def categories(self) -> list[str]:
        return [it.category for it in self.items]

    def __len__(self) -> int:
        return len(self.items)


def load_split(
    data_dir: Path, split: str | None, size: int = 64, limit: int | None = None
) -> SplitData:
    items = load_catalog(data_dir, split)
    if limit is not None:
        items = items[:limit]
    if not items:
        raise ValueError(f"{data_dir}: no items in split {split!r}")
    arrs = [np.asarray(load_image(it, size), dtype=np.uint8) for it in items]
    images = torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()
    return SplitData(items, images)


def variant_of(item: CatalogItem) -> str:
    """The builder's variant suffix ("base", "jitter", "red"...) from the file name, if any."""
    stem = Path(item.file_name).stem
    return stem.rsplit("__", 1)[-1] if "__" in stem else ""
