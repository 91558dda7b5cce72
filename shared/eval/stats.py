"""Pure statistics behind the metrics: Fréchet distance, KID, PSNR, SSIM, image statistics.

No models and no I/O here. Image functions take uint8-range arrays or tensors; every function is
small enough to check against a reference implementation (see tests/unit/eval/test_stats.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import torch


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of [N, D] features, in float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need [N>=2, D] features, got {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2):
    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``.

    Covariances from few samples are near-singular, so when the matrix square root is not
    finite it is retried with ``eps`` added to both diagonals; a tiny imaginary part left by
    numerical error is dropped. The result is clamped at 0 (it cannot be negative).
    """
    mu1, mu2 = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu1, mu2))
    s1, s2 = (np.atleast_2d(np.asarray(s, np.float64)) for s in (sigma1, sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError("mean and covariance shapes must agree")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            offset = np.eye(s1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


def kernel_inception_distance(
    x: np.ndarray, y: np.ndarray, num_subsets: int = 100, max_subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Unbiased squared MMD with the cubic polynomial kernel ``(a.b / d + 1)^3`` (Bińkowski et
    al.), averaged over random subsets; returns (mean, std over subsets). Subsets hold half the
    smaller set (at most ``max_subset_size``), so the std reflects sampling even for small sets
    (the mean is unbiased for any subset size)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m = min(max_subset_size, max(2, min(len(x), len(y)) // 2))
    if m < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        kaa = (a @ a.T / d + 1) ** 3
        kbb = (b @ b.T / d + 1) ** 3
        kab = (a @ b.T / d + 1) ** 3
        off = m * (m - 1)
        mmd = (kaa.sum() - np.trace(kaa)) / off + (kbb.sum() - np.trace(kbb)) / off - 2 * kab.mean()
        values.append(mmd)
    return float(np.mean(values)), float(np.std(values))


def inception_score(probs: np.ndarray, splits: int = 1) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) over ``splits`` chunks; (mean, std)."""
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    scores = []
    for chunk in np.array_split(p, max(1, splits)):
        if len(chunk) == 0:
            continue
        marginal = chunk.mean(axis=0, keepdims=True)
        kl = (chunk * (np.log(chunk) - np.log(marginal))).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# --- image fidelity: tensors [N, C, H, W] on the same 0..data_range scale --------------------


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 255.0) -> torch.Tensor:
    """[N] peak signal-to-noise ratio in dB; +inf where the images are identical."""
    mse = (a.double() - b.double()).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)  # mse 0 -> inf, no warning in torch


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float = 255.0,
    win: int = 7,
    k1: float = 0.01,
    k2: float = 0.03,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """[N] mean SSIM over channels, with scikit-image's defaults: a 7x7 uniform window, sample
    covariances, and only windows that fit inside the image (the border is not padded).
    float32 is ~3x faster and agrees to ~1e-5 (the scorer uses it); float64 matches exactly."""
    x, y = a.to(dtype), b.to(dtype)
    if min(x.shape[-2:]) < win:
        raise ValueError(f"images must be at least {win}x{win}")

    def mean(t: torch.Tensor) -> torch.Tensor:
        # Box mean over every full win x win window via running sums (5x faster on CPU than
        # avg_pool2d with stride 1).
        for dim in (-1, -2):
            c = t.cumsum(dim)
            head = c.narrow(dim, win - 1, 1)
            t = torch.cat(
                [
                    head,
                    c.narrow(dim, win, c.shape[dim] - win) - c.narrow(dim, 0, c.shape[dim] - win),
                ],
                dim=dim,
            )
        return t / (win * win)

    n = win * win
    cov_norm = n / (n - 1)
    ux, uy = mean(x), mean(y)
    vx = cov_norm * (mean(x * x) - ux * ux)
    vy = cov_norm * (mean(y * y) - uy * uy)
    vxy = cov_norm * (mean(x * y) - ux * uy)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.flatten(1).mean(dim=1)


def hwc_to_tensor(images: np.ndarray) -> torch.Tensor:
    """[H, W, C] or [N, H, W, C] array -> [N, C, H, W] float64 tensor (values unchanged)."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float64)).permute(0, 3, 1, 2)


# --- designer statistics on a composed creative ([H, W, 3] uint8) ----------------------------


def _gray(rgb: np.ndarray) -> np.ndarray:
    x = np.asarray(rgb, np.float32)
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def image_stats(rgb: np.ndarray) -> dict[str, float]:
    """The three designer statistics below, converting the image once."""
    x = np.asarray(rgb, np.float32)
    g = _gray(x)
    return {
        "sharpness": _laplacian_var(g),
        "colourfulness": colourfulness(x),
        "rms_contrast": float((g / 255.0).std()),
    }


def _laplacian_var(g: np.ndarray) -> float:
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


def sharpness(rgb: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of the grey image (0..255 scale); blur lowers it."""
    return _laplacian_var(_gray(rgb))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003): std and mean of the rg / yb opponent channels; ~0 for grey,
    ~30 "moderately", >80 "extremely" colourful."""
    x = np.asarray(rgb, np.float32)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def rms_contrast(rgb: np.ndarray) -> float:
    """Standard deviation of the grey image scaled to 0..1."""
    return float((_gray(rgb) / 255.0).std())


def image_stats_batch(rgb: torch.Tensor) -> dict[str, torch.Tensor]:
    """`image_stats` for [k, H, W, 3] uint8 images of one size on any device, as tensor ops:
    [k] values per statistic, the same arithmetic in float32 (tests/unit/eval/test_stats.py)."""
    x = rgb.float()
    r, g, b = x.unbind(-1)
    grey = r * 0.299 + g * 0.587 + b * 0.114
    lap = (
        grey[:, :-2, 1:-1]
        + grey[:, 2:, 1:-1]
        + grey[:, 1:-1, :-2]
        + grey[:, 1:-1, 2:]
        - 4 * grey[:, 1:-1, 1:-1]
    )
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    return {
        "sharpness": lap.flatten(1).var(dim=1, correction=0),
        "colourfulness": torch.hypot(rg.std(dim=1, correction=0), yb.std(dim=1, correction=0))
        + 0.3 * torch.hypot(rg.mean(dim=1), yb.mean(dim=1)),
        "rms_contrast": (grey / 255.0).flatten(1).std(dim=1, correction=0),
    }
