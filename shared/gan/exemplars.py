"""Retrieved exemplars: the catalog's shapes entering the generator spatially (issue 17).

The generator with ``g_arch: "exemplar"`` does not have to invent a product's shape from a
sentence embedding, which a small GAN trained for hours on a CPU never learnt (kind top-1 0.105).
Instead (IC-GAN, KNN-Diffusion, Re-Imagen; SPADE for the spatial route) the sentence retrieves
the nearest catalog product (``shared.catalog.retrieval``: the product's name, plain and in each
palette colour), the noise picks one of that product's pictures and warps it a little, and the
picture's grey map and silhouette are fed to the generator at every resolution.  The text still
decides colour and style, the noise the details.  The bank (pictures as small uint8 maps, the
retrieval rows' embeddings) is a set of buffers inside the generator, so it ships in
``generator.safetensors`` and a model needs no catalog at serving time.

Everything here that runs per sample is a pure function of (z, text): a seed gives the same
picture, and the same maps are used in training and serving.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from shared.catalog.format import CatalogItem, load_image
from shared.catalog.retrieval import WHITE_CUTOFF, product_rows

if TYPE_CHECKING:
    from shared.training.data import Embed


@dataclass(frozen=True)
class ExemplarBank:
    keys: torch.Tensor  # [R, D] unit-norm embeddings of the retrieval rows
    row_concept: torch.Tensor  # [R] long: product index of each row
    maps: torch.Tensor  # [P, C, S, S] uint8: grey + silhouette, or RGB, of each picture
    first: torch.Tensor  # [C] long: first picture of each product in ``maps``
    count: torch.Tensor  # [C] long: how many pictures each product has
    concepts: tuple[str, ...]  # product names, for reports (not stored in the weights)


def picture_map(image: np.ndarray, size: int, kind: str = "grey") -> np.ndarray:
    """uint8 map of an RGB uint8 picture on white: [2, size, size] luminance and silhouette
    ("grey"), or [3, size, size] the picture itself ("rgb")."""
    rgb = torch.from_numpy(np.array(image)).permute(2, 0, 1).float()[None]
    if kind == "rgb":
        planes = rgb
    else:
        grey = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2])[:, None]
        mask = (rgb.amin(dim=1, keepdim=True) <= WHITE_CUTOFF).float() * 255.0
        planes = torch.cat([grey, mask], 1)
    if planes.shape[-1] != size:
        planes = F.interpolate(planes, size=(size, size), mode="area")
    return planes[0].round().clamp(0, 255).to(torch.uint8).numpy()


def _preference(item: CatalogItem) -> tuple[int, str]:
    """Base renders first (each art style's own drawing), then placements, then recolours."""
    name = item.file_name
    return (0 if "__base" in name else 1 if "__jitter" in name else 2, name)


def build_exemplar_bank(
    items: list[CatalogItem],
    embed: Embed,
    image_size: int,
    map_size: int,
    per_concept: int,
    kind: str = "grey",
) -> ExemplarBank:
    """The bank for a training catalog: at most ``per_concept`` pictures per product, base
    renders first (``_preference``); a shop's own photos are all "other" and kept by name."""
    index = product_rows(items)
    concepts = tuple(sorted(index.pictures))
    position = {c: i for i, c in enumerate(concepts)}
    maps: list[np.ndarray] = []
    first: list[int] = []
    count: list[int] = []
    for concept in concepts:
        pics = sorted(index.pictures[concept], key=_preference)[:per_concept]
        first.append(len(maps))
        count.append(len(pics))
        maps.extend(
            picture_map(np.asarray(load_image(it, image_size)), map_size, kind) for it in pics
        )
    keys = F.normalize(embed(index.texts).float().cpu(), dim=1)
    return ExemplarBank(
        keys=keys,
        row_concept=torch.tensor([position[c] for c, _ in index.rows]),
        maps=torch.from_numpy(np.stack(maps)),
        first=torch.tensor(first),
        count=torch.tensor(count),
        concepts=concepts,
    )


def _uniform(z: torch.Tensor) -> torch.Tensor:
    """N(0, 1) noise entries -> U(0, 1) (the normal CDF), so a seed picks evenly."""
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))


def retrieve(keys: torch.Tensor, row_concept: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """[B] product index nearest to each sentence embedding."""
    sims = F.normalize(text.float(), dim=1) @ keys.float().T
    return row_concept[sims.argmax(dim=1)]


def exemplar_guide(
    z: torch.Tensor,
    text: torch.Tensor,
    keys: torch.Tensor,
    row_concept: torch.Tensor,
    maps: torch.Tensor,
    first: torch.Tensor,
    count: torch.Tensor,
    warp: float,
) -> torch.Tensor:
    """[B, C, S, S] in [-1, 1]: the retrieved, noise-picked and noise-warped exemplar map.

    Noise entries 0-5 choose: the picture (0), scale (1), rotation (2), shift (3, 4) and a
    mirror image (5).  The warp is bounded (``warp`` = 1: +-12% scale, +-0.2 rad, +-10% shift)
    so the product stays on the canvas; the generator sees white ground where the warp
    uncovers it."""
    concept = retrieve(keys, row_concept, text)
    n = count[concept]
    pick = (_uniform(z[:, 0]) * n).long().clamp(max=n - 1)
    guide = maps[first[concept] + pick].float().div(127.5).sub(1.0)
    if warp <= 0:
        return guide
    t = torch.tanh(z[:, 1:6].float())
    scale = 1.0 + 0.12 * warp * t[:, 0]
    angle = 0.2 * warp * t[:, 1]
    mirror = torch.where(z[:, 5] > 0, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * mirror, -sin, 0.1 * warp * t[:, 2]], dim=1),
            torch.stack([sin * mirror, cos, 0.1 * warp * t[:, 3]], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(guide.shape), align_corners=False)
    # Outside the picture: white ground (+1) and, for grey maps, no silhouette (-1).
    values = [1.0, -1.0] if guide.shape[1] == 2 else [1.0] * guide.shape[1]
    ground = torch.tensor(values, device=guide.device)[None, :, None, None]
    warped = F.grid_sample(guide - ground, grid, mode="bilinear", align_corners=False)
    return warped + ground
