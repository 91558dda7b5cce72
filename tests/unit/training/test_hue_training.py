"""A measured property of the re-colour-only exemplar design through the whole loop: each
product's bank holds only its red picture, the catalog also shows it in blue, and after a short
run the samples for "blue ..." are blue where the picture was red, while the shape stays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.catalog.format import CatalogItem, write_metadata
from shared.gan.checkpoint import load_model
from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, train

from .helpers import fake_embed, shape_image

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220)}
KINDS = ("square", "circle")


def _catalog(root: Path, size: int) -> None:
    (root / "images").mkdir(parents=True)
    items = []
    for kind in KINDS:
        for colour, rgb in COLOURS.items():
            # Red is the base render (the one the bank keeps), blue a recolour of it.
            name = f"images/{kind}__{'base' if colour == 'red' else 'recolour'}__{colour}.png"
            shape_image(rgb, kind, size).save(root / name)
            items.append(CatalogItem(name, [f"{colour} {kind}"], "toys", "train", kind, "user"))
    write_metadata(root, items)


@pytest.mark.parametrize(
    ("hue", "colour_loss"), [("pixel", 0.0), ("global", 0.0), ("colourise", 10.0)]
)
def test_short_run_recolours_the_kept_picture_to_the_asked_colour(
    tmp_path: Path, hue: str, colour_loss: float
) -> None:
    _catalog(tmp_path / "cat", 16)
    cfg = GANConfig(
        g_arch="exemplar",
        exemplar_map="rgb",
        exemplar_hue=hue,
        colour_loss=colour_loss,
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
        steps=STEPS,
        batch_size=16,
        device="cpu",
        precision="fp32",
        threads=1,
        sample_every=10_000,
        checkpoint_every=10_000,
        gp_every=4,
    )
    gen = load_model(train(opts, embed=fake_embed).model_dir).generator
    assert gen.bank_maps.shape[0] == len(KINDS)  # only the red pictures are in the bank
    z = torch.randn(8, cfg.z_dim, generator=torch.Generator().manual_seed(3))
    for kind in KINDS:
        red = np.asarray(shape_image(COLOURS["red"], kind, 16), np.float32) / 127.5 - 1
        product = red.min(axis=2) < 0.8  # not white ground
        with torch.no_grad():
            out = {
                c: gen(z, fake_embed([f"{c} {kind}"]).repeat(8, 1)).permute(0, 2, 3, 1).numpy()
                for c in COLOURS
            }
        blue_minus_red = {c: (o[..., 2] - o[..., 0])[:, product].mean() for c, o in out.items()}
        print(kind, blue_minus_red)
        # Red where asked for red, blue where asked for blue, and the word moves the colour by
        # at least a quarter of the full blue-minus-red range (4.0). The exact split between
        # the two sides depends on the CPU's float kernels (AVX2 vs AVX-512 machines differ:
        # the global arm gave -0.37 / +1.13 on one, below -0.5 on another), the gap does not.
        assert blue_minus_red["red"] < 0.0
        assert blue_minus_red["blue"] > 0.3
        assert blue_minus_red["blue"] - blue_minus_red["red"] > 1.0
        # The shape stays: the ground is still white in both.
        assert all(o[:, ~product].min() > 0.6 for o in out.values())


STEPS = 200
