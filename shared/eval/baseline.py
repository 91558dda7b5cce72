"""The baseline a shop would pick without any GAN: retrieve the catalog picture nearest to the
text and hue-rotate it to the asked colour ("retrieve + recolour").

Retrieval is by sentence embedding, against each training product's name written plain and in
each palette colour ("handbag", "red handbag", ...), so the nearest caption names both the
product and the colour the prompt asks for; the picture is then hue-rotated the way the catalog
builder recolours (``augment.recolour``: kept only if the result reads as that colour, else the
picture is served in its own colour).  The noise picks which picture of the retrieved product
is used (its styles and placements), so different seeds give different, but real, pictures.
It plugs into the same grid/kind_check code as a generator: ``baseline(z, text_emb)`` returns
images in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from shared.catalog.augment import recolour
from shared.catalog.format import CatalogItem, load_catalog, load_image
from shared.catalog.retrieval import WHITE_CUTOFF, product_rows
from shared.training.data import Embed


def cut_out(image: Image.Image) -> Image.Image:
    """RGBA with the near-white catalog background made transparent (what recolour expects)."""
    rgb = np.asarray(image.convert("RGB"))
    alpha = np.where(rgb.min(axis=2) > WHITE_CUTOFF, 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")


def on_white(rgba: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", rgba.size, (255, 255, 255))
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


@dataclass
class RetrieveRecolour:
    pictures: dict[str, list[CatalogItem]]  # concept -> its pictures (no coloured backgrounds)
    captions: list[tuple[str, str | None]]  # (concept, colour or None) per retrieval row
    caption_emb: torch.Tensor  # [rows, D], unit norm
    size: int

    @classmethod
    def build(
        cls, data: str | Path, embed: Embed, size: int = 64, split: str | None = "train"
    ) -> RetrieveRecolour:
        index = product_rows(load_catalog(data, split))
        emb = torch.nn.functional.normalize(embed(index.texts).float(), dim=1)
        return cls(index.pictures, index.rows, emb, size)

    def retrieve(self, text_emb: torch.Tensor) -> list[tuple[str, str | None]]:
        sims = torch.nn.functional.normalize(text_emb.float(), dim=1) @ self.caption_emb.T
        return [self.captions[int(i)] for i in sims.argmax(dim=1)]

    def picture(self, concept: str, colour: str | None, pick: int) -> Image.Image:
        options = self.pictures[concept]
        item = options[pick % len(options)]
        image = load_image(item, self.size)
        if colour is None:
            return image
        cut = cut_out(image)
        changed = recolour(cut, colour)  # None unless the result reads as that colour
        return on_white(changed) if changed is not None else image

    @torch.no_grad()
    def __call__(self, z: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        # The noise chooses the picture: a stable function of z, as a seed chooses a GAN sample.
        picks = (z[:, 0].double().abs() * 1e6).long().tolist()
        images = [
            self.picture(c, colour, p)
            for (c, colour), p in zip(self.retrieve(text_emb), picks, strict=True)
        ]
        arr = np.stack([np.asarray(im) for im in images]).astype(np.float32)
        return torch.from_numpy(arr).permute(0, 3, 1, 2).div(127.5).sub(1.0)
