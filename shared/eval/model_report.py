"""`adgen eval run`: measure a generator checkpoint on the held-out split, beside real held-out
images (the ceiling) and an untrained generator of the same architecture (the floor).

Writes eval_report.json, EVAL_REPORT.md (a Markdown table) and eval_grid.png to the output
directory, and upserts the metrics on the model's row in `model_versions` when a database URL
is given.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from shared.eval.bank import ReferenceBank
from shared.eval.data import SplitData, load_split
from shared.eval.grid import save_grid
from shared.eval.imagenet_map import IMAGENET_CLASSES
from shared.eval.lite2 import lite2_encode
from shared.eval.model import Evaluator, load_evaluator, pil_to_uint8, uint8_to_input
from shared.eval.registry import compute
from shared.gan.checkpoint import load_model
from shared.generation import GeneratorRuntime, save_untrained_model
from shared.text.encoder import TextEncoder

log = logging.getLogger("adgen.eval")

JSON_NAME, MD_NAME, GRID_NAME = "eval_report.json", "EVAL_REPORT.md", "eval_grid.png"
REAL, MODEL, FLOOR = "real held-out (ceiling)", "model", "untrained (floor)"
BASELINE = "retrieve + recolour (no GAN)"


@dataclass
class ReportOptions:
    samples: int = 1000
    split: str = "test"
    seed: int = 0
    batch_size: int = 128
    grid_columns: int = 10
    command: str = ""
    baseline: bool = True  # also measure retrieve + recolour (shared/eval/baseline.py)


@dataclass
class Report:
    rows: dict[str, dict[str, float]]
    info: dict[str, Any]
    markdown_table: str
    paths: list[Path] = field(default_factory=list)


@dataclass
class Prompts:
    """The held-out captions: one chosen per real image, and the pool R-precision draws from."""

    chosen: list[str]  # per held-out item
    pool: list[str]
    pool_groups: np.ndarray  # concept of each pool caption
    text: torch.Tensor  # [len(pool), 384]

    def index(self, captions: list[str]) -> np.ndarray:
        col = {c: i for i, c in enumerate(self.pool)}
        return np.array([col[c] for c in captions])


def held_out_prompts(held: SplitData, runtime: GeneratorRuntime, seed: int) -> Prompts:
    rng = np.random.default_rng(seed)
    chosen = [caps[int(rng.integers(len(caps)))] for caps in held.captions]
    group: dict[str, str] = {}
    for caps, concept in zip(held.captions, held.concepts, strict=True):
        for c in caps:
            group.setdefault(c, concept)
    pool = sorted(group)
    text = runtime.encoder.encode(pool).float().cpu()
    return Prompts(chosen, pool, np.array([group[c] for c in pool]), text)


def generate_set(
    runtime: GeneratorRuntime,
    prompts: list[str],
    seeds: list[int],
    batch_size: int,
    desc: str,
    size: int,
) -> torch.Tensor:
    chunks = []
    for i in tqdm(range(0, len(prompts), batch_size), desc=desc, unit="batch"):
        chunks.append(
            pil_to_uint8(
                runtime.generate(prompts[i : i + batch_size], seeds[i : i + batch_size]), size
            )
        )
    return torch.cat(chunks)


def measure(
    evaluator: Evaluator,
    bank: ReferenceBank | None,
    images: torch.Tensor,
    prompts: Prompts,
    captions: list[str],
    concepts: list[str],
    categories: list[str],
    ref_features: np.ndarray,
    seed: int,
) -> tuple[dict[str, float], np.ndarray]:
    """All registered set metrics for one row; returns (metrics, features)."""
    enc = evaluator.encode(uint8_to_input(images))
    feats = enc.features.numpy().astype(np.float64)
    probs = enc.logits.softmax(dim=1).numpy()
    true_idx = prompts.index(captions)
    own_text = prompts.text[true_idx]
    cosine = (enc.embedding * own_text).sum(dim=1)
    cats = {c: i for i, c in enumerate(evaluator.cfg.categories)}
    labels = np.array([cats.get(c, -1) for c in categories])
    out: dict[str, float] = {}
    out |= compute("fid", feats, ref_features)
    out |= compute("kid", feats, ref_features, seed=seed)
    out |= compute("is_analogue", probs)
    out |= compute(
        "r_precision",
        enc.embedding,
        prompts.text,
        true_idx,
        prompts.pool_groups,
        np.array(concepts),
        seed=seed,
    )
    out |= compute("alignment", cosine, evaluator.alignment(cosine))
    out |= compute("category_accuracy", probs, labels)
    if bank is not None:
        out |= compute("reference_fidelity", images, bank.images[bank.nearest(enc.features)])
    return out, feats


def lite2_measure(
    images: torch.Tensor, concepts: list[str], ref: np.ndarray | None, seed: int
) -> tuple[dict[str, float], np.ndarray]:
    """The Lite2 (ImageNet) metrics for one row; ``ref`` None: FD/KID left to the caller."""
    enc = lite2_encode(images)
    out: dict[str, float] = {}
    if ref is not None:
        out |= compute("fd_lite2", enc.features, ref)
        out |= compute("kid_lite2", enc.features, ref, seed=seed)
    out |= compute("is_lite2", enc.probs)
    out |= compute("imagenet_agreement", enc.probs, [IMAGENET_CLASSES.get(c, ()) for c in concepts])
    return out, enc.features


def baseline_set(
    data_dir: Path, runtime: GeneratorRuntime, prompts: list[str], seeds: list[int], size: int
) -> torch.Tensor:
    """The retrieve + recolour baseline's pictures for the same prompts and seeds (retrieval
    over the *train* split: the held-out products themselves are never retrieved)."""
    from shared.eval.baseline import RetrieveRecolour
    from shared.gan.sampling import seeded_noise, to_pil

    base = RetrieveRecolour.build(data_dir, runtime.encoder.encode, size=size)
    images = base(seeded_noise(seeds, 100), runtime.encoder.encode(prompts).float())
    return pil_to_uint8(to_pil(images), size)


def untrained_runtime(like: GeneratorRuntime, tmp: Path) -> GeneratorRuntime:
    cfg = asdict(like.bundle.config)
    save_untrained_model(tmp, seed=0, **cfg)
    # Same architecture, random weights; shares the text encoder already in memory.

    return GeneratorRuntime(
        bundle=load_model(tmp, device=like.device, with_discriminator=False),
        encoder=like.encoder,
        device=like.device,
        model_dir=tmp,
        max_batch=like.max_batch,
        untrained=True,
    )


def run_report(
    model_dir: Path,
    data_dir: Path,
    out_dir: Path,
    evaluator_dir: Path,
    opts: ReportOptions | None = None,
    db_url: str | None = None,
    device: str = "cpu",
    encoder: TextEncoder | None = None,
) -> Report:
    """``encoder``: the text encoder to share (default: load the bundled MiniLM)."""
    opts = opts or ReportOptions()
    t0 = time.perf_counter()
    evaluator = load_evaluator(evaluator_dir, device)
    bank = ReferenceBank.load(evaluator_dir)
    held = load_split(data_dir, opts.split, evaluator.cfg.image_size)
    bundle = load_model(model_dir, device=device)
    runtime = GeneratorRuntime(
        bundle=bundle,
        encoder=encoder or TextEncoder(device),
        device=torch.device(device),
        model_dir=Path(model_dir),
        untrained=bool(bundle.meta.get("untrained", False)),
    )
    prompts = held_out_prompts(held, runtime, opts.seed)
    n = len(held)
    picks = [i % n for i in range(opts.samples)]
    gen_prompts = [prompts.chosen[i] for i in picks]
    seeds = [opts.seed * 1_000_003 + i for i in range(opts.samples)]
    # Real ceiling: FID/KID between two random halves of the held-out images; the generated
    # rows are measured against all of them (N beside every number; KID is unbiased in N).
    real_feats = evaluator.encode(uint8_to_input(held.images)).features.numpy().astype(np.float64)
    perm = np.random.default_rng(opts.seed).permutation(n)
    half_a, half_b = perm[: n // 2], perm[n // 2 :]

    def row(images: torch.Tensor, idx: list[int], ref: np.ndarray) -> dict[str, float]:
        metrics, _ = measure(
            evaluator,
            bank,
            images,
            prompts,
            [prompts.chosen[i] for i in idx],
            [held.concepts[i] for i in idx],
            [held.categories[i] for i in idx],
            ref,
            opts.seed,
        )
        return metrics

    def lite2_row(images: torch.Tensor, idx: list[int], ref: np.ndarray | None) -> dict[str, float]:
        return lite2_measure(images, [held.concepts[i] for i in idx], ref, opts.seed)[0]

    rows: dict[str, dict[str, float]] = {}
    rows[REAL] = row(held.images, list(range(n)), real_feats)
    ab = row(held.images[torch.from_numpy(half_a)], half_a.tolist(), real_feats[half_b])
    rows[REAL] |= {k: ab[k] for k in ("fid", "fid_n", "fid_n_ref", "kid", "kid_std", "kid_n")}
    real_lite2, lite2_feats = lite2_measure(held.images, held.concepts, None, opts.seed)
    rows[REAL] |= (
        real_lite2
        | compute("fd_lite2", lite2_feats[half_a], lite2_feats[half_b])
        | (compute("kid_lite2", lite2_feats[half_a], lite2_feats[half_b], seed=opts.seed))
    )
    model_images = generate_set(
        runtime, gen_prompts, seeds, opts.batch_size, "model", evaluator.cfg.image_size
    )
    rows[MODEL] = row(model_images, picks, real_feats) | lite2_row(model_images, picks, lite2_feats)
    with tempfile.TemporaryDirectory() as tmp:
        floor = untrained_runtime(runtime, Path(tmp))
        floor_images = generate_set(
            floor, gen_prompts, seeds, opts.batch_size, "untrained", evaluator.cfg.image_size
        )
        rows[FLOOR] = row(floor_images, picks, real_feats) | lite2_row(
            floor_images, picks, lite2_feats
        )
    if opts.baseline:
        base_images = baseline_set(data_dir, runtime, gen_prompts, seeds, evaluator.cfg.image_size)
        rows[BASELINE] = row(base_images, picks, real_feats) | lite2_row(
            base_images, picks, lite2_feats
        )
    grid_idx = _distinct_concepts(held, opts.grid_columns)
    grid_idx = [i for i in grid_idx if i < opts.samples]
    out_dir.mkdir(parents=True, exist_ok=True)
    grid_rows = {
        "real": held.images[grid_idx],
        "model": model_images[grid_idx],
        "untrained": floor_images[grid_idx],
    }
    if opts.baseline:
        grid_rows["retrieve+recolour"] = base_images[grid_idx]
    grid_path = save_grid(out_dir / GRID_NAME, [prompts.chosen[i] for i in grid_idx], grid_rows)
    info = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": opts.command,
        "model": {
            "dir": str(model_dir),
            "version": runtime.version,
            "untrained": runtime.untrained,
            "meta": runtime.bundle.meta,
        },
        "evaluator": {"dir": str(evaluator_dir), **evaluator.cfg.extra.get("val", {})},
        "data": {
            "dir": str(data_dir),
            "split": opts.split,
            "real_images": n,
            "concepts": len(set(held.concepts)),
        },
        "samples": opts.samples,
        "seed": opts.seed,
        "wall_time_s": round(time.perf_counter() - t0, 1),
    }
    table = markdown_table(rows, model_label=Path(model_dir).name)
    report = Report(rows, info, table)
    report.paths = write_report(out_dir, report, grid_path)
    if db_url:
        record_metrics(db_url, runtime, rows, info)
    return report


def _distinct_concepts(held: SplitData, k: int) -> list[int]:
    seen: dict[str, int] = {}
    for i, c in enumerate(held.concepts):
        seen.setdefault(c, i)
    return list(seen.values())[:k]


# (key, label, format) in table order
TABLE: tuple[tuple[str, str, str], ...] = (
    ("fid", "FID (AdGen evaluator features), lower is better", "{:.2f}"),
    ("kid", "KID (AdGen evaluator features) x1000, lower is better", "kid"),
    ("r_precision", "R-precision@1 (true caption among 100), higher is better", "{:.3f}"),
    ("is_analogue", "IS analogue (AdGen category head)", "{:.2f}"),
    ("category_accuracy", "Category accuracy (evaluator head)", "{:.3f}"),
    ("alignment_mean", "Mean alignment (calibrated 0..1)", "{:.3f}"),
    ("fd_lite2", "FD_lite2 (ImageNet EfficientNet-Lite2 features), lower is better", "{:.2f}"),
    ("kid_lite2", "KID_lite2 x1000, lower is better", "kid_lite2"),
    ("is_lite2", "IS_lite2 (Lite2 ImageNet head)", "{:.2f}"),
    ("imagenet_top5", "ImageNet agreement: mapped class in Lite2 top-5", "{:.3f}"),
    ("psnr_ref", "PSNR to nearest reference (dB)", "{:.2f}"),
    ("ssim_ref", "SSIM to nearest reference", "{:.3f}"),
)


def _cell(key: str, fmt: str, m: dict[str, float]) -> str:
    if key not in m:
        return "n/a"
    if fmt in ("kid", "kid_lite2"):
        return f"{m[fmt] * 1000:.2f} ± {m[fmt + '_std'] * 1000:.2f} (n={m[fmt + '_n']:.0f})"
    text = fmt.format(m[key])
    if key in ("fid", "fd_lite2"):
        text += f" (n={m[key + '_n']:.0f} vs {m[key + '_n_ref']:.0f})"
    if key == "imagenet_top5":
        text += f" (n={m['imagenet_n']:.0f})"
    if key == "r_precision":
        text += f" (of {m['r_precision_candidates']:.0f})"
    if key == "is_analogue":
        text += f" (max {m['is_classes']:.0f})"
    return text


def markdown_table(rows: dict[str, dict[str, float]], model_label: str) -> str:
    names = {
        REAL: "Real held-out (ceiling)",
        MODEL: f"`{model_label}`",
        FLOOR: "Untrained generator (floor)",
        BASELINE: "Retrieve + recolour (no GAN)",
    }
    head = "| Metric | " + " | ".join(names[r] for r in rows) + " |"
    sep = "|---|" + "---|" * len(rows)
    lines = [head, sep]
    for key, label, fmt in TABLE:
        lines.append(f"| {label} | " + " | ".join(_cell(key, fmt, m) for m in rows.values()) + " |")
    return "\n".join(lines)


def write_report(out_dir: Path, report: Report, grid_path: Path) -> list[Path]:
    info = report.info
    js = out_dir / JSON_NAME
    js.write_text(
        json.dumps({**info, "rows": report.rows}, indent=2, sort_keys=True, default=str) + "\n",
        encoding="utf-8",
    )
    val = info["evaluator"]
    md = out_dir / MD_NAME
    model, data = info["model"], info["data"]
    flag = " (UNTRAINED checkpoint)" if model["untrained"] else ""
    meta = model.get("meta") or {}
    step = meta.get("total_steps", meta.get("step"))  # a fine-tuned model counts its base's
    if step is not None:
        flag += f", {step} training steps"
    command = info["command"] or "adgen eval run"
    md.write_text(
        f"""# Evaluation report: `{model["dir"]}`

Generated {info["created_at"]} by `{command}` in {info["wall_time_s"]} s.
Model version `{model["version"]}`{flag}; held-out split `{data["split"]}` of
`{data["dir"]}`: {data["real_images"]} real images of {data["concepts"]} concepts never seen by
the generator or the evaluator in training; {info["samples"]} generated samples per generator
row (prompts = held-out captions).

{report.markdown_table}

How to read it (details in docs/evaluation.md):
- All feature-based numbers use the **AdGen evaluator** (`{val.get("dir", "models/evaluator")}`,
  val R-precision@1 {val.get("r_precision", float("nan")):.3f}), a small CNN trained on our catalog,
  not Inception: they compare AdGen models with each other, never with published FID/KID/IS.
- The real row's FID/KID compares two random halves of the held-out images; the generated rows
  compare N samples with all held-out images. FID is biased upwards for small N (hence N beside
  it); KID is unbiased, so compare KID across rows.
- FD_lite2 / KID_lite2 / IS_lite2 / ImageNet agreement use EfficientNet-Lite2 trained on
  ImageNet (a network neither the generator nor its discriminator sees): FD and KID on its
  1280-d pooled features (names say what they are: not Inception FID/KID), IS on its 1000-class
  head, and the share of images whose top-5 ImageNet classes include the class our hand-made map
  (`shared/eval/imagenet_map.py`) gives the prompt's product (n = images with a mapped product).
- R-precision: the true caption ranked first among it and 99 captions of other held-out concepts
  (chance = 0.01).
- Alignment and R-precision can exceed the real row. The generator is conditioned on the same
  MiniLM embeddings the evaluator was aligned to, and its matching-aware discriminator rewards
  exactly the colour and coarse-shape cues the evaluator reads, so blurry blobs in the right
  colour retrieve their captions well. For realism, look at KID/FID and the grid.
- PSNR/SSIM: against the nearest real picture in the evaluator's reference bank (nearest in
  feature space): fidelity to the closest real product picture, not a reconstruction target.
  Catalog pictures sit on white, so blank or washed-out outputs score well here: read it only
  next to KID, R-precision and alignment.

![samples]({grid_path.name})

Grid rows: real held-out picture, this model, the untrained floor; same caption and seed per
column; and (when measured) "retrieve + recolour", the no-GAN baseline: the nearest
*training* catalog picture to the prompt (sentence embeddings), hue-rotated to the asked
colour. On held-out products it can only show a different, similar product; that is what a
shop without a generator would serve.
""",
        encoding="utf-8",
    )
    return [js, md, grid_path]


def record_metrics(
    db_url: str, runtime: GeneratorRuntime, rows: dict[str, dict[str, float]], info: dict[str, Any]
) -> None:
    """Upsert the model's row in model_versions with these metrics (migrations applied first)."""
    from shared.db import repo
    from shared.db.engine import session_scope
    from shared.db.migrate import upgrade
    from shared.db.models import ModelVersion

    try:
        upgrade(db_url)
        metrics = {
            "eval": {k: _finite(v) for k, v in rows[MODEL].items()},
            "ceiling": {k: _finite(v) for k, v in rows[REAL].items()},
            "floor": {k: _finite(v) for k, v in rows[FLOOR].items()},
            "samples": info["samples"],
            "split": info["data"]["split"],
            "evaluator": info["evaluator"].get("dir"),
            "created_at": info["created_at"],
        }
        with session_scope(db_url) as s:
            repo.upsert(
                s,
                ModelVersion,
                [
                    {
                        "id": runtime.version,
                        "name": runtime.model_dir.name,
                        "kind": "generator",
                        "path": str(runtime.model_dir),
                        "config": runtime.config_dict(),
                        "metrics": metrics,
                    }
                ],
                keys=["id"],
            )
    except Exception as exc:  # noqa: BLE001 - the files are the report; the DB is a copy
        log.warning("could not record metrics in %s: %s", db_url, exc)


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
