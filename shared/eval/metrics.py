"""Registered metrics over evaluator outputs. Plain typed functions, each -> dict[str, float].

Names say what they are: the Fréchet distance and KID use *AdGen evaluator* features, and the
"IS analogue" uses the evaluator's catalog-category head; none is comparable with published
Inception-based FID/KID/IS.
"""

from __future__ import annotations

import numpy as np
import torch

from shared.eval.registry import register_metric
from shared.eval.stats import (
    feature_stats,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
    psnr,
    ssim,
)

PSNR_CAP_DB = 100.0  # identical images give +inf; stored/averaged values are capped here


@register_metric("fid")
def fid_metric(features: np.ndarray, ref_features: np.ndarray) -> dict[str, float]:
    """FID (AdGen evaluator features); biased upwards for small N, so N is reported beside it."""
    mu1, s1 = feature_stats(features)
    mu2, s2 = feature_stats(ref_features)
    return {
        "fid": frechet_distance(mu1, s1, mu2, s2),
        "fid_n": float(len(features)),
        "fid_n_ref": float(len(ref_features)),
    }


@register_metric("kid")
def kid_metric(features: np.ndarray, ref_features: np.ndarray, seed: int = 0) -> dict[str, float]:
    """KID (AdGen evaluator features): unbiased, so comparable across sample counts."""
    mean, std = kernel_inception_distance(features, ref_features, seed=seed)
    return {"kid": mean, "kid_std": std, "kid_n": float(min(len(features), len(ref_features)))}


@register_metric("is_analogue")
def is_metric(probs: np.ndarray, splits: int = 1) -> dict[str, float]:
    """IS analogue (AdGen category head): exp E KL(p(y|x) || p(y)); at most the class count."""
    mean, std = inception_score(probs, splits)
    return {"is_analogue": mean, "is_analogue_std": std, "is_classes": float(probs.shape[1])}


@register_metric("r_precision")
def r_precision_metric(
    image_emb: torch.Tensor,
    text_emb: torch.Tensor,
    true_idx: np.ndarray,
    text_groups: np.ndarray,
    image_groups: np.ndarray,
    candidates: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """R-precision@1 as in AttnGAN: rank the true caption among ``candidates - 1`` random
    mismatching ones (captions of other concepts); the share of images whose true caption ranks
    first. Chance is 1/candidates (fewer candidates when the pool is small: reported)."""
    rng = np.random.default_rng(seed)
    sims = (image_emb.float() @ text_emb.float().T).numpy()
    hits, used = 0, candidates
    for i in range(len(image_emb)):
        pool = np.flatnonzero(text_groups != image_groups[i])
        k = min(candidates - 1, len(pool))
        used = min(used, k + 1)
        wrong = rng.choice(pool, k, replace=False)
        hits += int(sims[i, true_idx[i]] > sims[i, wrong].max(initial=-np.inf))
    return {"r_precision": hits / max(1, len(image_emb)), "r_precision_candidates": float(used)}


@register_metric("kind_accuracy")
def kind_accuracy_metric(
    image_emb: torch.Tensor, candidate_emb: torch.Tensor, true_idx: np.ndarray
) -> dict[str, float]:
    """Which product is it, colour held fixed.  Each image ranks K candidate captions that differ
    only in the product ("yellow hammer", "yellow violin", ...; ``candidate_emb`` [N, K, D],
    unit norm) and the true one is ``true_idx[i]``.  Colour cannot help, so this reads the kind
    (shape) only.  Share ranked first / in the top 5; chance is 1/K and 5/K."""
    sims = torch.einsum("nd,nkd->nk", image_emb.float(), candidate_emb.float())
    true = torch.as_tensor(true_idx, dtype=torch.long).view(-1, 1)
    rank = (sims > sims.gather(1, true)).sum(dim=1)
    return {
        "kind_top1": float((rank == 0).float().mean()),
        "kind_top5": float((rank < 5).float().mean()),
        "kind_candidates": float(candidate_emb.shape[1]),
    }


@register_metric("alignment")
def alignment_metric(cosine: torch.Tensor, calibrated: torch.Tensor) -> dict[str, float]:
    return {"alignment_mean": float(calibrated.mean()), "cosine_mean": float(cosine.mean())}


@register_metric("category_accuracy")
def category_accuracy_metric(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Share of images whose top category is the requested one (labels < 0 are skipped)."""
    keep = labels >= 0
    if not keep.any():
        return {}
    return {"category_accuracy": float((probs[keep].argmax(1) == labels[keep]).mean())}


def reference_fidelity(
    images: torch.Tensor, refs: torch.Tensor, fast: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image (PSNR capped at PSNR_CAP_DB, SSIM) of uint8 [N,3,S,S] images vs their refs;
    ``fast`` computes SSIM in float32 (the per-creative scorer)."""
    dtype = torch.float32 if fast else torch.float64
    return (
        psnr(images, refs).clamp(max=PSNR_CAP_DB).float(),
        ssim(images, refs, dtype=dtype).float(),
    )


@register_metric("reference_fidelity")
def reference_fidelity_metric(images: torch.Tensor, refs: torch.Tensor) -> dict[str, float]:
    """PSNR/SSIM to the nearest real reference picture (nearest in evaluator features)."""
    p, s = reference_fidelity(images, refs)
    return {"psnr_ref": float(p.mean()), "ssim_ref": float(s.mean())}


# --- EfficientNet-Lite2 (ImageNet) features: a judge we did not train (shared/eval/lite2.py) --


@register_metric("fd_lite2")
def fd_lite2_metric(features: np.ndarray, ref_features: np.ndarray) -> dict[str, float]:
    """Fréchet distance on Lite2 pooled features (1280-d): an FID analogue, not FID (different
    network); biased upwards for small N, so N is reported beside it."""
    mu1, s1 = feature_stats(features)
    mu2, s2 = feature_stats(ref_features)
    return {
        "fd_lite2": frechet_distance(mu1, s1, mu2, s2),
        "fd_lite2_n": float(len(features)),
        "fd_lite2_n_ref": float(len(ref_features)),
    }


@register_metric("kid_lite2")
def kid_lite2_metric(
    features: np.ndarray, ref_features: np.ndarray, seed: int = 0
) -> dict[str, float]:
    """KID on Lite2 pooled features: unbiased, comparable across sample counts."""
    mean, std = kernel_inception_distance(features, ref_features, seed=seed)
    return {
        "kid_lite2": mean,
        "kid_lite2_std": std,
        "kid_lite2_n": float(min(len(features), len(ref_features))),
    }


@register_metric("is_lite2")
def is_lite2_metric(probs: np.ndarray, splits: int = 1) -> dict[str, float]:
    """Inception Score analogue on Lite2's 1000 ImageNet classes: 1 for identical predictions,
    up to 1000 for confident predictions spread evenly over the classes."""
    mean, std = inception_score(probs, splits)
    return {"is_lite2": mean, "is_lite2_std": std, "is_lite2_classes": float(probs.shape[1])}


@register_metric("imagenet_agreement")
def imagenet_agreement_metric(
    probs: np.ndarray, wanted: list[tuple[int, ...]], k: int = 5
) -> dict[str, float]:
    """Share of images whose top-k ImageNet classes include one the prompt's product maps to
    (``wanted[i]``, empty for products without an ImageNet class: skipped); N reported."""
    keep = [i for i, w in enumerate(wanted) if w]
    if not keep:
        return {}
    top = np.argsort(-np.asarray(probs)[keep], axis=1)[:, :k]
    hits = [bool(set(t.tolist()) & set(wanted[i])) for t, i in zip(top, keep, strict=True)]
    return {"imagenet_top5": float(np.mean(hits)), "imagenet_n": float(len(keep))}


@register_metric("seed_diversity")
def seed_diversity_metric(features: np.ndarray, groups: list[str]) -> dict[str, float]:
    """Mean pairwise cosine distance between images of the same group (the seeds of one prompt,
    or the real renders of one concept), averaged over groups with at least two images."""
    x = np.asarray(features, np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    spreads = []
    for rows in by_group.values():
        if len(rows) < 2:
            continue
        sims = x[rows] @ x[rows].T
        n = len(rows)
        spreads.append(float((n * n - sims.sum()) / (n * (n - 1))))  # mean of 1 - cos, i != j
    if not spreads:
        return {}
    return {"seed_diversity": float(np.mean(spreads)), "seed_diversity_groups": float(len(spreads))}


@register_metric("nearest_train_distance")
def nearest_train_distance_metric(features: np.ndarray, train: np.ndarray) -> dict[str, float]:
    """Copy guard: mean over samples of the cosine distance to the nearest training picture.
    Near 0: the samples are training pictures (a retrieval system shows exactly those); a
    generator that draws new pictures stays clearly above it."""
    x = np.asarray(features, np.float64)
    t = np.asarray(train, np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    nearest = 1.0 - (x @ t.T).max(axis=1)
    return {"nearest_train_distance": float(nearest.mean())}
