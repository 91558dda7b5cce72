from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from shared.eval.bank import ReferenceBank
from shared.eval.data import load_split
from shared.eval.metrics import r_precision_metric
from shared.eval.model import load_evaluator, uint8_to_input
from tests.unit.eval.conftest import HashEncoder


def _r_precision(
    model_dir: Path, catalog: Path, encoder: HashEncoder, shuffle: bool
) -> dict[str, float]:
    model = load_evaluator(model_dir)
    held = load_split(catalog, "test")
    captions = sorted({c for caps in held.captions for c in caps})
    groups = {
        c: concept for caps, concept in zip(held.captions, held.concepts, strict=True) for c in caps
    }
    true = np.array([captions.index(caps[0]) for caps in held.captions])
    image_groups = np.array(held.concepts)
    if shuffle:
        perm = np.random.default_rng(0).permutation(len(true))
        true, image_groups = true[perm], image_groups[perm]
    emb = model.encode(uint8_to_input(held.images)).embedding
    return r_precision_metric(
        emb,
        encoder.encode(captions),
        true,
        np.array([groups[c] for c in captions]),
        image_groups,
        seed=0,
    )


def test_r_precision_far_above_chance_for_real_images(
    tiny_evaluator: tuple[Path, dict[str, float]], shapes_catalog: Path, hash_encoder: HashEncoder
) -> None:
    out = _r_precision(tiny_evaluator[0], shapes_catalog, hash_encoder, shuffle=False)
    chance = 1 / out["r_precision_candidates"]
    assert out["r_precision_candidates"] >= 20
    assert out["r_precision"] > max(0.25, 10 * chance)


def test_r_precision_at_chance_for_shuffled_captions(
    tiny_evaluator: tuple[Path, dict[str, float]], shapes_catalog: Path, hash_encoder: HashEncoder
) -> None:
    rs = [_r_precision(tiny_evaluator[0], shapes_catalog, hash_encoder, shuffle=True)]
    chance = 1 / rs[0]["r_precision_candidates"]
    assert rs[0]["r_precision"] <= 3 * chance + 0.1


def test_calibrated_alignment_separates_matches(
    tiny_evaluator: tuple[Path, dict[str, float]],
) -> None:
    _, val = tiny_evaluator
    assert val["alignment_match_mean"] > 0.5 > val["alignment_mismatch_mean"]
    assert val["category_accuracy"] > 0.5  # 4 balanced classes: chance 0.25


def test_save_load_round_trip(
    tiny_evaluator: tuple[Path, dict[str, float]], shapes_catalog: Path
) -> None:
    model_dir = tiny_evaluator[0]
    a, b = load_evaluator(model_dir), load_evaluator(model_dir)
    x = uint8_to_input(load_split(shapes_catalog, "test").images[:8])
    ea, eb = a.encode(x), b.encode(x)
    for k in ("features", "embedding", "logits"):
        assert torch.equal(getattr(ea, k), getattr(eb, k))
    assert a.cfg == b.cfg and a.cfg.calib_a != 10.0  # calibration was fitted and saved
    bank = ReferenceBank.load(model_dir)
    assert bank is not None and len(bank) == 40
    bank.save(model_dir)  # the PNG atlas is lossless: a second round trip changes nothing
    again = ReferenceBank.load(model_dir)
    assert again is not None and torch.equal(again.images, bank.images)
    assert torch.allclose(again.features, bank.features, atol=1e-3)
    # every bank picture is its own nearest neighbour
    feats = a.encode(uint8_to_input(bank.images)).features
    assert (bank.nearest(feats) == torch.arange(len(bank))).float().mean() > 0.9
