"""The colour-word pass (``GANConfig.colour_word_loss``) through the whole loop: the catalog
shows every product in red only, yet after a short run "blue ..." and "green ..." come out in
that colour, because the pass trains every product with every palette word and needs no picture
of the pair.  Without the pass the same run leaves them red."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.catalog.augment import reads_as
from shared.catalog.format import CatalogItem, write_metadata
from shared.gan.checkpoint import load_model
from shared.gan.config import GANConfig
from shared.gan.sampling import to_pil
from shared.training.export import product_pixels
from shared.training.loop import TrainOptions, train

from .helpers import fake_embed, shape_image

KINDS = ("square", "circle")
ASKED = ("red", "blue", "green")


def _red_only_catalog(root: Path, size: int) -> None:
    (root / "images").mkdir(parents=True)
    items = []
    for kind in KINDS:
        name = f"images/{kind}__base__red.png"
        shape_image((220, 30, 30), kind, size).save(root / name)
        items.append(CatalogItem(name, [f"red {kind}"], "toys", "train", kind, "user"))
    write_metadata(root, items)


def _colours_read(
    tmp_path: Path,
    weight: float,
    shades: bool = False,
    asked: tuple[str, ...] = ASKED,
    steps: int = 300,
) -> dict[str, float]:
    _red_only_catalog(tmp_path / "cat", 16)
    cfg = GANConfig(
        g_arch="exemplar",
        exemplar_map="rgb",
        exemplar_hue="colourise",
        colour_word_loss=weight,
        colour_word_shades=shades,
        exemplar_gamma_range=2.0 if shades else 0.7,
        exemplar_sat_floor=0.125 if shades else 0.5,
        exemplar_size=16,
        exemplar_per_concept=1,
        exemplar_warp=0.0,
        image_size=16,
        z_dim=8,
        ngf=8,
        ndf=8,
        cond_hidden=32,
        diffaugment="",
        lr_g=1e-3,
        lr_d=3e-4,
        ema_beta=0.9,
    )
    opts = TrainOptions(
        data=tmp_path / "cat",
        out=tmp_path / "run",
        cfg=cfg,
        steps=steps,
        batch_size=16,
        device="cpu",
        precision="fp32",
        threads=1,
        sample_every=10_000,
        checkpoint_every=10_000,
    )
    gen = load_model(train(opts, embed=fake_embed).model_dir).generator
    z = torch.randn(8, cfg.z_dim, generator=torch.Generator().manual_seed(3))
    read = {}
    for colour in asked:
        hits = []
        for kind in KINDS:
            with torch.no_grad():
                images = gen(z, fake_embed([f"{colour} {kind}"]).repeat(8, 1))
            hits += [reads_as(product_pixels(im), colour) for im in to_pil(images)]
        read[colour] = float(np.mean(hits))
    print(weight, read)
    return read


@pytest.mark.parametrize("weight", [0.0, 5.0])
def test_colour_words_reach_colours_no_picture_shows(tmp_path: Path, weight: float) -> None:
    read = _colours_read(tmp_path, weight)
    if weight:
        assert read["red"] >= 0.75  # the colour the pictures have stays
        assert read["blue"] >= 0.75 and read["green"] >= 0.75
    else:  # the control: nothing else teaches a colour no picture shows
        assert read["blue"] <= 0.25 and read["green"] <= 0.25


def test_shade_words_reach_black_and_white(tmp_path: Path) -> None:
    """Black and white are no hue of the red pictures: the pass with shades, on an output wide
    enough to reach them (exemplar_gamma_range 2, exemplar_sat_floor 1/8), teaches them and
    keeps the palette words working. (The control, the same run without shades, is the
    colour-word test above: its red-only pictures never read black or white.)"""
    # Ten words instead of seven: each is drawn less often, so the run is longer.
    asked = ("black", "white", "blue", "red")
    read = _colours_read(tmp_path, 5.0, shades=True, asked=asked, steps=600)
    assert read["black"] >= 0.75 and read["white"] >= 0.75
    assert read["blue"] >= 0.75 and read["red"] >= 0.75
