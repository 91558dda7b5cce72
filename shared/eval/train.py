"""Train the evaluator: CLIP-style InfoNCE against frozen MiniLM caption embeddings (in the
spirit of AttnGAN's DAMSM) plus a category head; then calibrate alignment and build the bank.

`train_evaluator` is one function with a ``progress_fn`` callback, so a CLI progress bar, a test
or a task can drive it. Catalog splits: train for weights, val for calibration and the reported
retrieval accuracy; test is never touched (it belongs to the per-model report).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F

from shared.eval.bank import ReferenceBank
from shared.eval.data import SplitData, load_split, variant_of
from shared.eval.metrics import r_precision_metric
from shared.eval.model import (
    Evaluator,
    EvaluatorConfig,
    round_to_fp16,
    save_evaluator,
    uint8_to_input,
)


class TextEmbedder(Protocol):
    def encode(self, texts: list[str]) -> torch.Tensor: ...


@dataclass
class EvaluatorTrainOptions:
    steps: int = 1500
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    class_weight: float = 0.5  # category cross-entropy next to the contrastive loss
    seed: int = 0
    bank_size: int = 800  # reference pictures shipped (base variants first)
    threads: int | None = None
    widths: tuple[int, ...] = EvaluatorConfig.widths  # (tests use a much narrower network)
    image_size: int = 64


ProgressFn = Callable[[int, int, dict[str, float]], None]


def augment(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """uint8 batch -> float [-1,1] with shifts, flips and occasional blur. No colour changes:
    colour words are part of the captions, so colour must stay informative."""
    x = uint8_to_input(images)
    n, _, s, _ = x.shape
    pad = s // 16
    x = F.pad(x, (pad,) * 4, mode="replicate")
    dx, dy = torch.randint(0, 2 * pad + 1, (2,), generator=gen).tolist()
    x = x[:, :, dy : dy + s, dx : dx + s]
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    # Generated images are softer than catalog art; some blur keeps the evaluator fair to them.
    blur = (torch.rand(n, generator=gen) < 0.3)[:, None, None, None]
    x = torch.where(blur, F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1), x)
    return x


def contrastive_loss(
    img: torch.Tensor, txt: torch.Tensor, caption_ids: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE; rows sharing a caption string are all positives (soft targets)."""
    logits = scale * img @ txt.T
    same = (caption_ids[:, None] == caption_ids[None, :]).float()
    target = same / same.sum(dim=1, keepdim=True)
    loss_i = -(target * logits.log_softmax(dim=1)).sum(dim=1).mean()
    loss_t = -(target * logits.log_softmax(dim=0).T).sum(dim=1).mean()
    return (loss_i + loss_t) / 2


def _caption_table(data: SplitData, encoder: TextEmbedder) -> tuple[list[str], torch.Tensor]:
    unique = sorted({c for caps in data.captions for c in caps})
    return unique, encoder.encode(unique).float().cpu()


def fit_calibration(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Logistic fit P(match | cosine) = sigmoid(a*cos + b) on balanced match/mismatch cosines."""
    x = np.concatenate([pos, neg]).astype(np.float64)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])

    def nll(p: np.ndarray) -> float:
        z = p[0] * x + p[1]
        return float(np.mean(np.logaddexp(0, z) - y * z))

    res = scipy.optimize.minimize(
        nll,
        np.array([10.0, -2.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-5, "fatol": 1e-8, "maxiter": 4000},
    )
    return float(res.x[0]), float(res.x[1])


def validate(
    model: Evaluator, val: SplitData, encoder: TextEmbedder, seed: int = 0
) -> dict[str, float]:
    """Calibrate alignment on val and measure retrieval and category accuracy there."""
    enc = model.encode(uint8_to_input(val.images))
    captions, text = _caption_table(val, encoder)
    col = {c: i for i, c in enumerate(captions)}
    rng = np.random.default_rng(seed)
    true_idx = np.array([col[caps[rng.integers(len(caps))]] for caps in val.captions])
    concept_of_caption: dict[str, str] = {}
    for caps, concept in zip(val.captions, val.concepts, strict=True):
        for c in caps:
            concept_of_caption.setdefault(c, concept)
    text_groups = np.array([concept_of_caption[c] for c in captions])
    image_groups = np.array(val.concepts)
    cos = (enc.embedding @ text.T).numpy()
    pos = cos[np.arange(len(val)), true_idx]
    neg = np.array(
        [
            cos[i, rng.choice(np.flatnonzero(text_groups != image_groups[i]))]
            for i in range(len(val))
        ]
    )
    a, b = fit_calibration(pos, neg)
    model.cfg.calib_a, model.cfg.calib_b = a, b
    cats = {c: i for i, c in enumerate(model.cfg.categories)}
    labels = np.array([cats.get(c, -1) for c in val.categories])
    pred = enc.logits.argmax(1).numpy()
    out = r_precision_metric(enc.embedding, text, true_idx, text_groups, image_groups, seed=seed)
    known = labels >= 0
    out |= {
        "category_accuracy": float((pred[known] == labels[known]).mean())
        if known.any()
        else float("nan"),
        "cosine_match_mean": float(pos.mean()),
        "cosine_mismatch_mean": float(neg.mean()),
        "alignment_match_mean": float(model.alignment(torch.from_numpy(pos)).mean()),
        "alignment_mismatch_mean": float(model.alignment(torch.from_numpy(neg)).mean()),
        "calib_a": a,
        "calib_b": b,
        "val_images": float(len(val)),
    }
    return out


def build_bank(model: Evaluator, train: SplitData, size: int) -> ReferenceBank:
    order = sorted(range(len(train)), key=lambda i: (variant_of(train.items[i]) != "base", i))
    keep = sorted(order[:size])
    images = train.images[keep]
    feats = model.encode(uint8_to_input(images)).features
    return ReferenceBank(
        images,
        F.normalize(feats, dim=1),
        [train.items[i].caption for i in keep],
        [train.items[i].category for i in keep],
    )


def train_evaluator(
    data_dir: Path,
    out_dir: Path,
    encoder: TextEmbedder,
    opts: EvaluatorTrainOptions | None = None,
    progress_fn: ProgressFn | None = None,
    limit: int | None = None,
) -> dict[str, float]:
    """Train, calibrate, build the bank and save to ``out_dir``; returns the val metrics."""
    opts = opts or EvaluatorTrainOptions()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    torch.manual_seed(opts.seed)
    gen = torch.Generator().manual_seed(opts.seed)
    t0 = time.perf_counter()
    train = load_split(data_dir, "train", opts.image_size, limit=limit)
    val = load_split(data_dir, "val", opts.image_size, limit=limit)
    captions, text = _caption_table(train, encoder)
    col = {c: i for i, c in enumerate(captions)}
    caption_ids = [[col[c] for c in caps] for caps in train.captions]
    cfg = EvaluatorConfig(
        image_size=opts.image_size, widths=opts.widths, categories=sorted(set(train.categories))
    )
    cat_idx = torch.tensor([cfg.categories.index(c) for c in train.categories])
    model = Evaluator(cfg)
    optim = torch.optim.AdamW(model.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(  # short warm-up, then cosine decay
        optim, lambda s: min(1.0, (s + 1) / 50) * 0.5 * (1 + math.cos(math.pi * s / opts.steps))
    )
    model.train()
    batch = min(opts.batch_size, len(train))
    for step in range(opts.steps):
        idx = torch.randperm(len(train), generator=gen)[:batch]
        pick = [
            caption_ids[i][int(torch.randint(len(caption_ids[i]), (1,), generator=gen))]
            for i in idx.tolist()
        ]
        ids = torch.tensor(pick)
        out = model(augment(train.images[idx], gen))
        scale = model.logit_scale.clamp(max=math.log(100)).exp()
        l_con = contrastive_loss(out.embedding, text[ids], ids, scale)
        l_cls = F.cross_entropy(out.logits, cat_idx[idx])
        loss = l_con + opts.class_weight * l_cls
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
        if progress_fn is not None:
            progress_fn(
                step + 1,
                opts.steps,
                {
                    "loss": loss.item(),
                    "contrastive": l_con.item(),
                    "category": l_cls.item(),
                    "scale": scale.item(),
                },
            )
    model.eval()
    round_to_fp16(model)  # the saved (fp16) weights are the ones calibrated and measured
    metrics = validate(model, val, encoder, seed=opts.seed)
    bank = build_bank(model, train, opts.bank_size)
    wall = time.perf_counter() - t0
    cfg.extra = {
        "steps": opts.steps,
        "batch_size": batch,
        "lr": opts.lr,
        "seed": opts.seed,
        "train_images": len(train),
        "train_captions": len(captions),
        "wall_time_s": round(wall, 1),
        "data_dir": str(data_dir),
        "limit": limit,
        "val": metrics,
        "bank_size": len(bank),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_evaluator(out_dir, model)
    bank.save(out_dir)
    return metrics | {"wall_time_s": wall}
