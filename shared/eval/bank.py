"""The reference bank shipped with the evaluator: real catalog pictures + their features.

PSNR/SSIM of a generated product image are measured against its nearest bank picture in
evaluator feature space: fidelity to the closest real product picture, not a reconstruction
target. Pictures are stored as one lossless PNG atlas (emoji-style art compresses ~6x better
than raw uint8), features as fp16 safetensors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

ATLAS, FEATURES, INDEX = "reference_images.png", "reference_bank.safetensors", "reference_bank.json"
COLUMNS = 32


@dataclass
class ReferenceBank:
    images: torch.Tensor  # [M, 3, S, S] uint8
    features: torch.Tensor  # [M, D] float32, unit norm
    captions: list[str]
    categories: list[str]

    def __len__(self) -> int:
        return len(self.captions)

    def nearest(self, features: torch.Tensor) -> torch.Tensor:
        """[N] index of the most similar bank picture (cosine in feature space)."""
        q = F.normalize(features.float(), dim=1)
        return (q @ self.features.T).argmax(dim=1)

    def save(self, out_dir: Path) -> None:
        m, _, s, _ = self.images.shape
        rows = (m + COLUMNS - 1) // COLUMNS
        atlas = np.full((rows * s, COLUMNS * s, 3), 255, np.uint8)
        arr = self.images.permute(0, 2, 3, 1).numpy()
        for i in range(m):
            r, c = divmod(i, COLUMNS)
            atlas[r * s : (r + 1) * s, c * s : (c + 1) * s] = arr[i]
        Image.fromarray(atlas).save(out_dir / ATLAS, optimize=True, compress_level=9)
        save_file(
            {"features": self.features.to(torch.float16).contiguous()}, str(out_dir / FEATURES)
        )
        (out_dir / INDEX).write_text(
            json.dumps(
                {
                    "count": m,
                    "size": s,
                    "columns": COLUMNS,
                    "captions": self.captions,
                    "categories": self.categories,
                },
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, model_dir: Path) -> ReferenceBank | None:
        if not (model_dir / INDEX).exists():
            return None
        index = json.loads((model_dir / INDEX).read_text(encoding="utf-8"))
        m, s, cols = int(index["count"]), int(index["size"]), int(index["columns"])
        with Image.open(model_dir / ATLAS) as im:
            atlas = np.asarray(im.convert("RGB"), dtype=np.uint8)
        tiles = [
            atlas[(i // cols) * s : (i // cols + 1) * s, (i % cols) * s : (i % cols + 1) * s]
            for i in range(m)
        ]
        images = torch.from_numpy(np.stack(tiles)).permute(0, 3, 1, 2).contiguous()
        feats = load_file(str(model_dir / FEATURES))["features"].float()
        return cls(
            images, F.normalize(feats, dim=1), list(index["captions"]), list(index["categories"])
        )
