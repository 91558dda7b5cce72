from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from shared.eval.stats import (
    colourfulness,
    feature_stats,
    frechet_distance,
    hwc_to_tensor,
    inception_score,
    kernel_inception_distance,
    psnr,
    rms_contrast,
    sharpness,
    ssim,
)


def _features(n: int = 400, d: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d))


def test_frechet_identical_statistics_is_zero() -> None:
    mu, sigma = feature_stats(_features())
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)


def test_frechet_grows_with_mean_shift() -> None:
    mu, sigma = feature_stats(_features())
    shifts = [0.5, 1.0, 2.0, 4.0]
    values = [frechet_distance(mu, sigma, mu + s, sigma) for s in shifts]
    assert values == sorted(values) and values[0] > 0
    # a pure mean shift adds exactly |shift|^2 per dimension
    assert values[-1] == pytest.approx(16.0 * len(mu), rel=1e-4)


def test_frechet_handles_singular_covariance() -> None:
    x = _features(n=5, d=16)  # fewer samples than dimensions: rank-deficient covariances
    y = _features(n=5, d=16, seed=1)
    value = frechet_distance(*feature_stats(x), *feature_stats(y))
    assert math.isfinite(value) and value >= 0


def test_kid_of_identical_sets_is_about_zero_and_detects_shift() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 32)), rng.normal(size=(500, 32))
    same, _ = kernel_inception_distance(x, x.copy(), num_subsets=10)
    independent, _ = kernel_inception_distance(x, y, num_subsets=10)
    shifted, _ = kernel_inception_distance(x, x + 0.5, num_subsets=10)
    assert abs(same) < 0.05 * shifted and abs(independent) < 0.01 * shifted
    assert shifted > 0.5


def test_inception_score_bounds() -> None:
    uniform = np.full((50, 4), 0.25)
    assert inception_score(uniform)[0] == pytest.approx(1.0)
    confident = np.eye(4)[np.arange(100) % 4]
    assert inception_score(confident)[0] == pytest.approx(4.0, rel=1e-6)


def test_psnr_ssim_of_identical_images() -> None:
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    t = hwc_to_tensor(img)
    assert math.isinf(float(psnr(t, t)[0]))
    assert float(ssim(t, t)[0]) == pytest.approx(1.0)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1), noise=st.integers(1, 120), size=st.sampled_from([16, 33, 64])
)
def test_psnr_ssim_match_scikit_image(seed: int, noise: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, a.shape), 0, 255).astype(np.uint8)
    ta, tb = hwc_to_tensor(a), hwc_to_tensor(b)
    expected_psnr = peak_signal_noise_ratio(a, b, data_range=255)
    expected_ssim = structural_similarity(a, b, channel_axis=-1, data_range=255)
    assert float(psnr(ta, tb)[0]) == pytest.approx(expected_psnr, rel=1e-9)
    assert float(ssim(ta, tb)[0]) == pytest.approx(expected_ssim, abs=1e-9)


def test_image_statistics() -> None:
    grey = np.full((40, 60, 3), 128, np.uint8)
    assert colourfulness(grey) == 0 and rms_contrast(grey) == 0 and sharpness(grey) == 0
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    blurred = ((noisy[:-1, :-1].astype(int) + noisy[1:, 1:]) // 2).astype(np.uint8)
    assert sharpness(noisy) > sharpness(blurred) > 0
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    assert colourfulness(red) > 80  # "extremely colourful" on Hasler-Süsstrunk's scale


def test_image_stats_batch_is_image_stats_as_tensor_ops() -> None:
    import torch

    from shared.eval.scorer import creative_stats
    from shared.eval.stats import image_stats, image_stats_batch

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 37, 53, 3), dtype=np.uint8)
    images[1] = (images[1] // 4) + 100  # a duller, lower-contrast one
    batch = image_stats_batch(torch.from_numpy(images))
    for i, img in enumerate(images):
        ref = image_stats(img)
        for name, value in ref.items():
            assert float(batch[name][i]) == pytest.approx(value, rel=1e-5)
    # The scorer's stage: per creative, whatever the sizes and the grouping.
    from PIL import Image

    pils = [Image.fromarray(im) for im in images] + [Image.fromarray(images[0][:20, :30])]
    got = creative_stats(pils, "cpu").values
    for im, stats in zip(pils, got, strict=True):
        for name, value in image_stats(np.asarray(im)).items():
            assert stats[name] == pytest.approx(value, rel=1e-5)
    # ... and from the pixels the worker hands over (read-only arrays), the same numbers.
    arrays = [np.frombuffer(im.tobytes(), np.uint8).reshape(im.height, im.width, 3) for im in pils]
    assert creative_stats(arrays, "cpu").values == got
