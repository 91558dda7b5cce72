"""The evaluator's MODEL_CARD.md, generated from its config (what it was trained on, how well)."""

from __future__ import annotations

from pathlib import Path

from shared.eval.model import EvaluatorConfig

CARD = "MODEL_CARD.md"


def write_model_card(model_dir: Path, command: str) -> Path:
    cfg = EvaluatorConfig.load(model_dir / "config.json")
    x = cfg.extra
    val = x.get("val", {})
    nan = float("nan")

    def v(key: str) -> float:
        return float(val.get(key, nan))

    size_kb = sum(p.stat().st_size for p in model_dir.iterdir() if p.is_file()) / 1024
    cands = v("r_precision_candidates")
    rows = [
        ("command", f"`{command}`"),
        (
            "data",
            f"`{x.get('data_dir')}` train split: {x.get('train_images')} images, "
            f"{x.get('train_captions')} distinct captions (limit {x.get('limit')})",
        ),
        (
            "steps x batch",
            f"{x.get('steps')} x {x.get('batch_size')} (AdamW lr {x.get('lr')}, "
            f"cosine decay, seed {x.get('seed')})",
        ),
        ("wall time", f"{x.get('wall_time_s')} s on a shared 2-core CPU"),
        ("val images", f"{v('val_images'):.0f} (concepts unseen in training)"),
        (
            "val R-precision@1",
            f"{v('r_precision'):.3f} (true caption among {cands:.0f}; "
            f"chance {1 / max(1.0, cands):.3f})",
        ),
        ("val category accuracy", f"{v('category_accuracy'):.3f}"),
        (
            "val cosine match / mismatch",
            f"{v('cosine_match_mean'):.3f} / {v('cosine_mismatch_mean'):.3f}",
        ),
        (
            "alignment calibration",
            f"sigmoid({cfg.calib_a:.3f} * cos + {cfg.calib_b:.3f}); val mean on matching pairs "
            f"{v('alignment_match_mean'):.3f}, mismatching {v('alignment_mismatch_mean'):.3f}",
        ),
        (
            "reference bank",
            f"{x.get('bank_size')} train pictures (base variants first), "
            "lossless PNG atlas + fp16 features",
        ),
        ("size on disk", f"{size_kb:.0f} KiB (weights stored as fp16; calibrated after rounding)"),
    ]
    table = "\n".join(f"| {k} | {val_} |" for k, val_ in rows)
    text = f"""# AdGen evaluator

A small CNN image encoder (widths {list(cfg.widths)}, 64x64 RGB input) trained contrastively
(CLIP-style symmetric InfoNCE, learnable temperature) against the frozen all-MiniLM-L6-v2
embeddings of catalog captions, in the spirit of AttnGAN's DAMSM, with a catalog-category head
({len(cfg.categories)} classes). It stands in for Inception, which cannot be downloaded here:
its FID/KID/IS-analogue numbers compare AdGen models with each other and nothing else.

| | |
|---|---|
{table}

Categories: {", ".join(cfg.categories)}.

Limits: trained on emoji-style product art only (OpenMoji + Noto); alignment is a calibrated
probability that a caption matches *in this domain*, not a general image-text score. See
docs/evaluation.md.
"""
    path = model_dir / CARD
    path.write_text(text, encoding="utf-8")
    return path
