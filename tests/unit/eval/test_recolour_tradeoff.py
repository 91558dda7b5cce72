"""The re-colour trade-off: each setting changes only the maps it names, and "as trained" is
exactly what the model draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from shared.catalog.format import CatalogItem, load_catalog, write_metadata
from shared.eval.model import load_evaluator
from shared.gan.checkpoint import load_model, save_bank, save_model
from shared.gan.config import GANConfig
from shared.gan.exemplars import build_exemplar_bank
from shared.gan.generator import Generator, bank_tensors
from shared.gan.sampling import seeded_noise
from shared.training.recolour_tradeoff import MIX, SAT, SETTINGS, TINT, Setting, adjusted, tradeoff

from .conftest import COLOURS, SHAPES, SIZE, HashEncoder, draw_shape


def _mix(m: torch.Tensor) -> torch.Tensor:  # as hue_recolour reads the mix map
    return 1.5 * torch.sigmoid(m - np.log(2.0)) - 0.5


def test_each_setting_replaces_only_its_maps() -> None:
    params = torch.randn(4, 8, 2, 2, generator=torch.Generator().manual_seed(0))
    same = adjusted(params, Setting("as trained"))
    assert torch.allclose(same, params, atol=1e-5)
    half = adjusted(params, Setting("half", tint=0.5))
    assert torch.allclose(torch.tanh(half[:, TINT]), 0.5 * torch.tanh(params[:, TINT]), atol=1e-5)
    flat = adjusted(params, Setting("flat", tint=0.0, keep_saturation=True, mix=1.0))
    assert torch.all(flat[:, TINT] == 0) and torch.all(flat[:, SAT] == 0)
    assert torch.allclose(_mix(flat[:, MIX]), torch.ones(4, 2, 2), atol=1e-3)
    assert torch.allclose(
        _mix(adjusted(params, Setting("r", mix=0.0))[:, MIX]), torch.zeros(1), atol=1e-3
    )
    assert torch.equal(adjusted(params, Setting("u", unchanged=True)), torch.zeros_like(params))
    untouched = [c for c in range(8) if c not in (SAT, MIX, TINT)]
    assert torch.equal(flat[:, untouched], params[:, untouched])


@pytest.fixture()
def colourise_model(tmp_path: Path, hash_encoder: HashEncoder) -> tuple[Path, Path]:
    """A catalog of red shapes (so every other palette colour is new to them) and an untrained
    colourise generator, its last layer randomised so the maps are not all zero."""
    rng = np.random.default_rng(3)
    (tmp_path / "cat" / "images").mkdir(parents=True)
    items = []
    for shape in SHAPES:
        for k in range(2):
            name = f"images/{shape}__flat__{'base' if k == 0 else 'jitter'}.png"
            draw_shape(shape, COLOURS["red"], rng, SIZE).save(tmp_path / "cat" / name)
            items.append(CatalogItem(name, [f"red {shape}", shape], "toys", "train", shape))
    write_metadata(tmp_path / "cat", items)
    bank = build_exemplar_bank(
        load_catalog(tmp_path / "cat"), hash_encoder.encode, SIZE, SIZE, 2, "rgb"
    )
    cfg = GANConfig(
        image_size=SIZE, z_dim=8, ngf=4, ndf=4, cond_hidden=8, text_dim=HashEncoder.DIM,
        g_arch="exemplar", exemplar_map="rgb", exemplar_hue="colourise", exemplar_size=SIZE,
        exemplar_rows=len(bank.keys), exemplar_pictures=len(bank.maps),
        exemplar_concepts=len(bank.first),
    )  # fmt: skip
    torch.manual_seed(0)
    gen = Generator(cfg)
    for p in gen.to_rgb.parameters():
        torch.nn.init.normal_(p, std=0.5)
    save_model(tmp_path / "m", cfg, gen)
    save_bank(tmp_path / "m", bank_tensors(bank))
    return tmp_path / "m", tmp_path / "cat"


def test_recolour_params_then_recolour_is_what_the_model_draws(
    colourise_model: tuple[Path, Path], hash_encoder: HashEncoder
) -> None:
    gen = load_model(colourise_model[0]).generator.eval()
    z, text = seeded_noise([1, 2, 3], 8), hash_encoder.encode(["blue bar", "green square", "bar"])
    with torch.no_grad():
        drawn = gen(z, text)
        again = gen.recolour(*gen.recolour_params(z, text)).clamp(-1.0, 1.0)
    assert torch.equal(drawn, again)


def test_tradeoff_reads_every_setting_on_the_models_own_samples(
    colourise_model: tuple[Path, Path],
    hash_encoder: HashEncoder,
    tiny_evaluator: tuple[Path, dict[str, float]],
) -> None:
    model, data = colourise_model
    rows = tradeoff(model, data, hash_encoder.encode, load_evaluator(tiny_evaluator[0]), prompts=4)
    assert [r["setting"] for r in rows] == [s.name for s in SETTINGS]
    for r in rows:
        assert 0.0 <= float(r["kind_top1"]) <= float(r["kind_top5"]) <= 1.0
        assert 0.0 <= float(r["colour_match"]) <= 1.0
    # Hue rotation alone cannot make a flat red shape another palette colour reliably, and the
    # readings differ between settings (the maps matter): not every row is the same.
    assert len({(r["kind_top1"], r["colour_match"]) for r in rows}) > 1
