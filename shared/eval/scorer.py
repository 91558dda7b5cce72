"""Per-creative scores and the quality gate, plugged into the worker as `Context.scorer`.

`forward` is everything about one generated image that needs no other image: the networks
(evaluator, discriminator, text encoder) and the per-image scores computed from their outputs
as tensor ops on the scorer's device (alignment, realism, category probabilities, product
pixel spread, reference fidelity against the nearest bank picture). It takes any images as one
batch, so a worker batches it across events like the generator. What is left per event is how
its images compare with each other (near-duplicates, diversity) and the gate: small numpy.
The composed creatives' image statistics are pixel work that grows with creative area:
`creative_stats` computes them as tensor ops on the scorer's device, one op per creative size."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from shared.eval.bank import ReferenceBank
from shared.eval.categories import map_category
from shared.eval.metrics import reference_fidelity
from shared.eval.model import Evaluator, has_evaluator, load_evaluator, pil_to_uint8, uint8_to_input
from shared.eval.stats import image_stats_batch
from shared.events import CampaignEvent
from shared.generation import GeneratorRuntime
from shared.plan import EventPlan

log = logging.getLogger("adgen.eval")

Score = tuple[dict[str, float], bool, str | None]
DUPLICATE_SIMILARITY = 0.98  # feature cosine above which two variants count as near-duplicates


@dataclass(frozen=True)
class GateThresholds:
    """A creative is servable only if every product image it shows passes every check.
    A threshold of None switches that check off."""

    min_alignment: float | None = 0.2
    min_realism: float | None = None
    min_category_confidence: float | None = None
    max_duplicate_similarity: float | None = DUPLICATE_SIMILARITY
    min_product_std: float | None = 4.0  # pixel std (0..255): below it the image is ~blank

    @classmethod
    def from_settings(cls, settings: Any) -> GateThresholds:
        def opt(name: str, default: float | None) -> float | None:
            value = getattr(settings, name, default)
            return None if value is None or value < 0 else float(value)

        return cls(
            min_alignment=opt("gate_min_alignment", cls.min_alignment),
            min_realism=opt("gate_min_realism", cls.min_realism),
            min_category_confidence=opt(
                "gate_min_category_confidence", cls.min_category_confidence
            ),
            max_duplicate_similarity=opt(
                "gate_max_duplicate_similarity", cls.max_duplicate_similarity
            ),
            min_product_std=opt("gate_min_product_std", cls.min_product_std),
        )

    def check(self, m: dict[str, float]) -> list[str]:
        reasons = []
        lows = (
            ("alignment", self.min_alignment),
            ("realism", self.min_realism),
            ("category_confidence", self.min_category_confidence),
            ("product_std", self.min_product_std),
        )
        for name, floor in lows:
            if floor is not None and name in m and m[name] < floor:
                reasons.append(f"{name} {m[name]:.2f} < {floor:.2f}")
        ceiling = self.max_duplicate_similarity
        if ceiling is not None and m.get("duplicate_similarity", -1.0) > ceiling:
            reasons.append(
                f"near-duplicate of another variant (similarity "
                f"{m['duplicate_similarity']:.3f} > {ceiling:.3f})"
            )
        return reasons


@dataclass
class NetOutputs:
    """The networks' outputs for a batch of images, on the scorer's device."""

    embedding: torch.Tensor  # evaluator embedding in the text space
    logits: torch.Tensor  # category logits
    features: torch.Tensor  # evaluator features (near-duplicates, reference bank)
    text: torch.Tensor  # the prompts' sentence embeddings
    realism_logits: torch.Tensor | None  # the GAN discriminator's scores (None without one)


@dataclass
class ImageForward:
    """One image's scores that need no other image of its event (from the batched pass)."""

    metrics: dict[str, float]  # alignment, cosine, product_std, [realism], [psnr_ref, ssim_ref]
    probs: np.ndarray  # category probabilities (its event says which category to read)
    features: np.ndarray  # unit-norm evaluator features (near-duplicates within its event)


@dataclass
class CreativeStats:
    """The designer statistics of an event's creatives, and what they cost this thread."""

    values: list[dict[str, float]] = field(default_factory=list)  # one per creative, in order
    device_ms: float = 0.0  # thread CPU in the tensor ops (on a GPU: launches, the copy over)
    host_ms: float = 0.0  # thread CPU reading the pixels out of Pillow


def creative_stats(
    creatives: Sequence[Image.Image | np.ndarray], device: torch.device | str
) -> CreativeStats:
    """`image_stats` of each creative (a Pillow image, or its [H, W, 3] uint8 pixels as the
    worker hands them over, read out once for the encoder), as tensor ops on `device`: batched
    per size on a GPU, one creative at a time on a CPU (a stacked batch only costs a copy)."""
    device = torch.device(device)
    out = CreativeStats([{} for _ in creatives])
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, im in enumerate(creatives):
        by_size.setdefault(_size(im), []).append(i)
    groups = (
        [[i] for i in range(len(creatives))] if device.type == "cpu" else list(by_size.values())
    )
    with torch.inference_mode():
        for rows in groups:
            c0 = time.thread_time()
            pixels = [_rgb_array(creatives[i]) for i in rows]
            with warnings.catch_warnings():  # Pillow's array is read-only; torch only reads it
                warnings.simplefilter("ignore", UserWarning)
                x = torch.from_numpy(pixels[0] if len(rows) == 1 else np.stack(pixels))
            c1 = time.thread_time()
            stats = image_stats_batch(x.reshape(len(rows), *pixels[0].shape).to(device))
            values = {k: v.cpu().tolist() for k, v in stats.items()}
            c2 = time.thread_time()
            for j, i in enumerate(rows):
                out.values[i] = {k: float(v[j]) for k, v in values.items()}
            out.host_ms += (c1 - c0) * 1000
            out.device_ms += (c2 - c1) * 1000
    return out


def _rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return image
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _size(image: Image.Image | np.ndarray) -> tuple[int, int]:
    return (image.shape[1], image.shape[0]) if isinstance(image, np.ndarray) else image.size


@dataclass
class ImageScores:
    """Per generated image, rows in the order of `keys`."""

    keys: list[tuple[int, int]]
    metrics: dict[str, np.ndarray]


class QualityScorer:
    def __init__(
        self,
        evaluator: Evaluator,
        bank: ReferenceBank | None,
        runtime: GeneratorRuntime,
        gate: GateThresholds,
        device: str | torch.device = "cpu",
    ) -> None:
        self.evaluator = evaluator
        self.bank = bank
        self.runtime = runtime
        self.gate = gate
        self.device = torch.device(device)
        self._bank_device: tuple[torch.Tensor, torch.Tensor] | None = None
        # The batched part (networks and per-image scores); a worker swaps in a cross-event
        # micro-batcher.
        self.forward_fn: Callable[[list[tuple[torch.Tensor, str]]], list[ImageForward]] = (
            self.forward
        )

    @torch.inference_mode()
    def forward(self, items: list[tuple[torch.Tensor, str]]) -> list[ImageForward]:
        """Everything about an image that needs no other image, for any images as one batch:
        (uint8 image, prompt) -> the networks' outputs and the per-image scores computed from
        them (reference fidelity included). Pure per image (no batch statistics), so a worker
        batches it across events (`forward_fn`) with the numbers of one event at a time; what
        is left per event is the comparison of an event's images with each other."""
        raw = torch.stack([img for img, _ in items])
        return self.image_scores(raw, self.networks(raw, [p for _, p in items]))

    @torch.inference_mode()
    def networks(self, raw: torch.Tensor, prompts: list[str]) -> NetOutputs:
        """The model forward passes: evaluator, text encoder, discriminator."""
        x = uint8_to_input(raw).to(self.device)
        enc = self.evaluator(x)
        text = self.runtime.encoder.encode(prompts).to(self.device).float()
        realism = None
        disc = self.runtime.bundle.discriminator
        if disc is not None:
            size = self.runtime.bundle.config.image_size
            xd = (
                x
                if x.shape[-1] == size
                else F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
            )
            logits = disc.score(xd.to(self.runtime.device), text.to(self.runtime.device))
            realism = logits.float().reshape(-1).to(self.device)
        return NetOutputs(
            enc.embedding.float(), enc.logits.float(), enc.features.float(), text, realism
        )

    @torch.inference_mode()
    def image_scores(self, raw: torch.Tensor, nets: NetOutputs) -> list[ImageForward]:
        """Per-image scores as tensor ops on the scorer's device, one op for the whole batch
        (pixel and vector work, not a network), then one copy back to the host."""
        raw = raw.to(self.device)
        cos = (nets.embedding * F.normalize(nets.text, dim=1)).sum(dim=1)
        columns = {
            "alignment": self.evaluator.alignment(cos),
            "cosine": cos,
            "product_std": raw.float().flatten(1).std(dim=1),
        }
        if nets.realism_logits is not None:
            columns["realism"] = torch.sigmoid(nets.realism_logits)
        if self.bank is not None and len(self.bank):
            bank_images, bank_features = self._bank_on_device()
            nearest = (F.normalize(nets.features, dim=1) @ bank_features.T).argmax(dim=1)
            columns["psnr_ref"], columns["ssim_ref"] = reference_fidelity(
                raw, bank_images[nearest], fast=True
            )
        names = list(columns)
        table = torch.stack([columns[k].float() for k in names], dim=1).cpu().tolist()
        probs = nets.logits.softmax(dim=1).cpu().numpy()
        features = F.normalize(nets.features, dim=1).cpu().numpy()
        return [
            ImageForward(dict(zip(names, row, strict=True)), probs[i], features[i])
            for i, row in enumerate(table)
        ]

    def _bank_on_device(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The reference bank's pictures and unit-norm features, copied to the device once."""
        if self._bank_device is None:
            assert self.bank is not None
            self._bank_device = (
                self.bank.images.to(self.device),
                F.normalize(self.bank.features.float(), dim=1).to(self.device),
            )
        return self._bank_device

    def score_images(
        self, event: CampaignEvent, plan: EventPlan, images: dict[tuple[int, int], Image.Image]
    ) -> ImageScores:
        """An event's per-image scores (from the batched pass) and how its images compare with
        each other (near-duplicates across variants, diversity)."""
        reqs = [r for r in plan.images if r.key in images]
        keys = [r.key for r in reqs]
        if not keys:  # every image is a shop's photo: the model has nothing to be rated on
            return ImageScores([], {})
        raw = pil_to_uint8([images[k] for k in keys], self.evaluator.cfg.image_size)
        outs = self.forward_fn([(raw[i], r.prompt) for i, r in enumerate(reqs)])
        m: dict[str, np.ndarray] = {
            name: np.array([o.metrics[name] for o in outs]) for name in outs[0].metrics
        }
        cats = self.evaluator.cfg.categories
        conf = np.full(len(keys), np.nan)
        for row, (_, j) in enumerate(keys):
            if j < len(event.products):  # cart complements have no requested category
                cat = map_category(event.products[j].category, cats)
                if cat is not None:
                    conf[row] = outs[row].probs[cats.index(cat)]
        m["category_confidence"] = conf
        if len(keys) == 1:  # no other image to be a near-duplicate of
            m["duplicate_similarity"] = np.full(1, -1.0)
            return ImageScores(keys, m)
        feats = np.stack([o.features for o in outs])
        sim = feats @ feats.T
        variants = np.array([k[0] for k in keys])
        other = variants[:, None] != variants[None, :]
        m["duplicate_similarity"] = np.where(other, sim, -1.0).max(axis=1, initial=-1.0)
        off = ~np.eye(len(keys), dtype=bool)
        m["diversity"] = np.full(len(keys), float((1 - sim[off]).mean()))
        return ImageScores(keys, m)

    def __call__(
        self,
        event: CampaignEvent,
        plan: EventPlan,
        images: dict[tuple[int, int], Image.Image],
        creatives: Sequence[Image.Image | np.ndarray],
    ) -> list[Score]:
        per_image = self.score_images(event, plan, images)
        row_of = {k: i for i, k in enumerate(per_image.keys)}
        stats = creative_stats(creatives, self.device)
        out: list[Score] = []
        for cp, creative_metrics in zip(plan.creatives, stats.values, strict=True):
            rows = [row_of[k] for k in cp.image_keys if k in row_of]
            metrics = _aggregate(per_image.metrics, rows)
            if "duplicate_similarity" in metrics:
                limit = self.gate.max_duplicate_similarity or DUPLICATE_SIMILARITY
                metrics["near_duplicate"] = float(metrics["duplicate_similarity"] > limit)
            metrics |= creative_metrics
            reasons = self.gate.check(metrics)
            out.append((metrics, not reasons, "; ".join(reasons) or None))
        return out


# The weakest product image decides a creative's gate; fidelity and diversity are averaged.
_WORST_LOW = ("alignment", "cosine", "realism", "category_confidence", "product_std")
_WORST_HIGH = ("duplicate_similarity",)


def _aggregate(per_image: dict[str, np.ndarray], rows: list[int]) -> dict[str, float]:
    out: dict[str, float] = {}
    if not rows:
        return out
    for name, values in per_image.items():
        # A creative shows a few images: plain floats beat numpy reductions on tiny arrays.
        v = [x for x in values[rows].tolist() if x == x]  # NaN (not applicable) dropped
        if not v:
            continue
        if name in _WORST_LOW:
            out[name] = float(min(v))
        elif name in _WORST_HIGH:
            out[name] = float(max(v))
        else:
            out[name] = float(sum(v) / len(v))
    return out


def load_scorer(
    evaluator_dir: Path, runtime: GeneratorRuntime, device: str, gate: GateThresholds | None = None
) -> QualityScorer | None:
    """The worker's scorer, or None (with a warning) when no evaluator checkpoint exists."""
    evaluator_dir = Path(evaluator_dir)
    if not has_evaluator(evaluator_dir):
        log.warning(
            "no evaluator checkpoint in %s: creatives will not be scored or gated", evaluator_dir
        )
        return None
    evaluator = load_evaluator(evaluator_dir, device)
    bank = ReferenceBank.load(evaluator_dir)
    if bank is None:
        log.warning("evaluator in %s has no reference bank: no PSNR/SSIM", evaluator_dir)
    return QualityScorer(evaluator, bank, runtime, gate or GateThresholds(), device)
