"""The exemplar generator: bank, retrieval, noise-picked warped guides, saving, gradients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.catalog.format import load_catalog
from shared.gan.checkpoint import load_model, save_model
from shared.gan.config import GANConfig
from shared.gan.exemplars import build_exemplar_bank, exemplar_guide, picture_map, retrieve
from shared.gan.generator import Generator

from ..training.helpers import SHAPES, fake_embed, synthetic_catalog


def test_picture_map_reads_grey_and_silhouette() -> None:
    image = np.full((16, 16, 3), 255, np.uint8)
    image[4:12, 4:12] = (0, 0, 0)
    grey, mask = picture_map(image, 8)
    assert mask[0, 0] == 0 and grey[0, 0] == 255  # white ground: no silhouette
    assert mask[4, 4] == 255 and grey[4, 4] == 0  # the black square
    assert mask.sum() == 16 * 255  # 4 x 4 cells at half the size


@pytest.fixture()
def bank_and_cfg(tmp_path: Path) -> tuple[object, GANConfig]:
    synthetic_catalog(tmp_path / "cat", size=16)
    bank = build_exemplar_bank(load_catalog(tmp_path / "cat"), fake_embed, 16, 8, 6)
    cfg = GANConfig(
        image_size=16,
        z_dim=8,
        ngf=4,
        ndf=4,
        cond_hidden=8,
        g_arch="exemplar",
        exemplar_size=8,
        exemplar_rows=len(bank.keys),
        exemplar_pictures=len(bank.maps),
        exemplar_concepts=len(bank.first),
    )
    return bank, cfg


def test_bank_has_one_row_per_product_and_colour(bank_and_cfg: tuple) -> None:
    bank, _ = bank_and_cfg
    assert len(bank.first) == len(SHAPES) and bank.count.tolist() == [1] * len(SHAPES)
    assert len(bank.keys) == len(SHAPES) * 8  # plain + seven palette colours
    assert bank.maps.dtype == torch.uint8 and bank.maps.shape[1:] == (2, 8, 8)


def test_the_caption_retrieves_its_own_product(bank_and_cfg: tuple) -> None:
    bank, _ = bank_and_cfg
    captions = list(SHAPES)
    got = retrieve(bank.keys, bank.row_concept, fake_embed(captions))
    assert [bank.concepts[i] for i in got.tolist()] == captions


def test_guide_is_a_pure_function_of_the_noise(bank_and_cfg: tuple) -> None:
    bank, _ = bank_and_cfg
    text = fake_embed(["blue circle"] * 4)
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    args = (bank.keys, bank.row_concept, bank.maps, bank.first, bank.count)
    a, b = exemplar_guide(z, text, *args, warp=1.0), exemplar_guide(z, text, *args, warp=1.0)
    assert torch.equal(a, b)
    assert (a[0] - a[1]).abs().mean() > 0.01  # other noise, other warp
    plain = exemplar_guide(z, text, *args, warp=0.0)
    want = bank.maps[bank.first[list(bank.concepts).index("blue circle")]].float() / 127.5 - 1
    assert torch.allclose(plain[0], want)
    assert a.min() >= -1.0001 and a.max() <= 1.0001


def test_saved_model_keeps_the_bank_exact(tmp_path: Path, bank_and_cfg: tuple) -> None:
    bank, cfg = bank_and_cfg
    gen = Generator(cfg)
    gen.set_bank(bank)
    save_model(tmp_path / "m", cfg, gen, weights_dtype=torch.float16)
    back = load_model(tmp_path / "m", with_discriminator=False).generator
    assert back.bank_maps.dtype == torch.uint8 and torch.equal(back.bank_maps, bank.maps)
    assert torch.equal(back.bank_row_concept, bank.row_concept)
    assert torch.allclose(back.bank_keys, bank.keys, atol=1e-3)


def test_gradient_reaches_the_weights_that_read_the_guide(bank_and_cfg: tuple) -> None:
    bank, cfg = bank_and_cfg
    torch.manual_seed(0)
    gen = Generator(cfg)
    gen.set_bank(bank)
    out = gen(torch.randn(4, 8), fake_embed(list(SHAPES)))
    out.square().mean().backward()
    # The affine MLPs' first layers start with zero gradient by design (their last layers are
    # zero-initialised so every fusion starts as the identity); everything else must learn.
    for name, p in gen.named_parameters():
        if ".gamma.0." in name or ".beta.0." in name:
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for block in gen.blocks:  # the input channels that carry the guide (last two)
        assert block.conv0.weight.grad[:, -2:].abs().sum() > 0
    assert gen.to_rgb[1].weight.grad[:, -2:].abs().sum() > 0
    assert all(not b.requires_grad for b in gen.buffers())


def test_the_guide_changes_the_picture(bank_and_cfg: tuple) -> None:
    """Same noise and text, another exemplar map: the output must move (the shape enters)."""
    bank, cfg = bank_and_cfg
    torch.manual_seed(0)
    gen = Generator(cfg).eval()
    gen.set_bank(bank)
    z, text = torch.randn(1, 8), fake_embed(["red square"])
    before = gen(z, text)
    gen.bank_maps.copy_(bank.maps.flip(0))  # every product now shows another's picture
    assert (gen(z, text) - before).abs().mean() > 1e-4


@pytest.mark.parametrize("output", ["residual", "pixel", "global", "colourise"])
def test_colour_map_generators_start_as_the_exact_picture(tmp_path: Path, output: str) -> None:
    synthetic_catalog(tmp_path / "cat", size=16)
    bank = build_exemplar_bank(load_catalog(tmp_path / "cat"), fake_embed, 16, 16, 2, "rgb")
    cfg = GANConfig(
        image_size=16,
        z_dim=8,
        ngf=4,
        cond_hidden=8,
        g_arch="exemplar",
        exemplar_map="rgb",
        exemplar_residual=output == "residual",
        exemplar_hue=output if output != "residual" else "off",
        exemplar_size=16,
        exemplar_warp=0.0,
        exemplar_rows=len(bank.keys),
        exemplar_pictures=len(bank.maps),
        exemplar_concepts=len(bank.first),
    )
    gen = Generator(cfg).eval()
    gen.set_bank(bank)
    out = gen(torch.randn(1, 8), fake_embed(["blue circle"]))
    picture = bank.maps[bank.first[list(bank.concepts).index("blue circle")]].float() / 127.5 - 1
    assert torch.allclose(out[0], picture, atol=1e-6)
