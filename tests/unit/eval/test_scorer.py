from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shared.eval.categories import map_category
from shared.eval.scorer import GateThresholds, QualityScorer, load_scorer
from shared.generation import GeneratorRuntime
from shared.personalize import plan_event
from shared.samples import sample_events

PER_CREATIVE = {
    "alignment",
    "cosine",
    "realism",
    "product_std",
    "duplicate_similarity",
    "near_duplicate",
    "diversity",
    "psnr_ref",
    "ssim_ref",
    "sharpness",
    "colourfulness",
    "rms_contrast",
}


def _event_inputs(runtime: GeneratorRuntime):  # type: ignore[no-untyped-def]
    event = sample_events("eval", count=2)[0]
    plan = plan_event(event)
    imgs = runtime.generate([r.prompt for r in plan.images], [r.seed for r in plan.images])
    images = {r.key: im for r, im in zip(plan.images, imgs, strict=True)}
    rng = np.random.default_rng(0)
    creatives = [
        Image.fromarray(rng.integers(0, 256, (50, 80, 3), dtype=np.uint8)) for _ in plan.creatives
    ]
    return event, plan, images, creatives


def _scorer(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime, gate: GateThresholds
) -> QualityScorer:
    scorer = load_scorer(tiny_evaluator[0], runtime, "cpu", gate)
    assert scorer is not None
    return scorer


def test_one_tuple_per_creative_with_named_metrics(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime
) -> None:
    event, plan, images, creatives = _event_inputs(runtime)
    gate = GateThresholds(min_alignment=None, max_duplicate_similarity=None)
    out = _scorer(tiny_evaluator, runtime, gate)(event, plan, images, creatives)
    assert len(out) == len(plan.creatives) >= 2
    for metrics, servable, reason in out:
        assert set(metrics) >= PER_CREATIVE
        assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
        assert 0 <= metrics["alignment"] <= 1 and 0 <= metrics["realism"] <= 1
        assert servable and reason is None
    # "shoes" is not a category of the shapes evaluator: the metric is skipped, not invented
    assert "category_confidence" not in out[0][0]


def test_gate_marks_a_blank_image_not_servable(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime
) -> None:
    event, plan, images, creatives = _event_inputs(runtime)
    bad_key = plan.creatives[0].image_keys[0]
    images[bad_key] = Image.new("RGB", (64, 64), (128, 128, 128))
    gate = GateThresholds(min_alignment=None, max_duplicate_similarity=None)
    out = _scorer(tiny_evaluator, runtime, gate)(event, plan, images, creatives)
    for cp, (_, servable, reason) in zip(plan.creatives, out, strict=True):
        shows_bad = bad_key in cp.image_keys
        assert servable is not shows_bad
        if shows_bad:
            assert reason is not None and reason.startswith("product_std 0.00 < 4.00")


def test_gate_thresholds_and_near_duplicates(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime
) -> None:
    event, plan, images, creatives = _event_inputs(runtime)
    strict = _scorer(tiny_evaluator, runtime, GateThresholds(min_alignment=0.999))
    for _, servable, reason in strict(event, plan, images, creatives):
        assert not servable and reason is not None and "alignment" in reason
    keys = sorted(images)
    images[keys[-1]] = images[keys[0]].copy()  # variant 1 repeats variant 0's picture
    assert keys[-1][0] != keys[0][0]
    dup = _scorer(tiny_evaluator, runtime, GateThresholds(min_alignment=None))
    out = dup(event, plan, images, creatives)
    flagged = [m for m, _, _ in out if m["near_duplicate"] == 1.0]
    assert flagged and all(m["duplicate_similarity"] > 0.999 for m in flagged)
    assert any("near-duplicate" in (r or "") for _, s, r in out if not s)


def test_load_scorer_without_checkpoint_warns(
    tmp_path: Path, runtime: GeneratorRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adgen.eval"):
        assert load_scorer(tmp_path, runtime, "cpu", GateThresholds()) is None
    assert "no evaluator checkpoint" in caplog.text


def test_gate_from_settings_turns_checks_off() -> None:
    class S:
        gate_min_alignment = 0.4
        gate_min_realism = -1.0
        gate_min_category_confidence = 0.2
        gate_max_duplicate_similarity = 0.9
        gate_min_product_std = -1

    gate = GateThresholds.from_settings(S())
    assert gate == GateThresholds(0.4, None, 0.2, 0.9, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Shoes", "shoes"),
        ("clothing", "clothing and accessories"),
        ("Footwear", "shoes"),
        ("Food & Drink", "food and drink"),
        ("jewelry", "jewellery"),
        ("spaceships", None),
    ],
)
def test_map_category(name: str, expected: str | None) -> None:
    known = [
        "bags",
        "clothing and accessories",
        "cosmetics",
        "food and drink",
        "jewellery",
        "shoes",
        "sport",
    ]
    assert map_category(name, known) == expected


def test_batched_across_events_gives_the_same_scores(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime
) -> None:
    """The networks' part runs per image: scoring 4 events through one shared micro-batcher
    (as a worker does) gives the numbers scoring each event alone gives."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.batching import MicroBatcher

    scorer = _scorer(tiny_evaluator, runtime, GateThresholds())
    inputs = []
    for event in sample_events("eval-batch", count=2):
        plan = plan_event(event)
        imgs = runtime.generate([r.prompt for r in plan.images], [r.seed for r in plan.images])
        images = {r.key: im for r, im in zip(plan.images, imgs, strict=True)}
        creatives = [
            Image.new("RGB", (60, 40), (200, 30 * i, 90)) for i in range(len(plan.creatives))
        ]
        inputs.append((event, plan, images, creatives))
    alone = [scorer(*args) for args in inputs]

    batcher = MicroBatcher(scorer.forward, max_batch=64, max_wait_s=0.2)
    scorer.forward_fn = lambda items: batcher(items, timeout=60)
    try:
        with ThreadPoolExecutor(len(inputs)) as pool:
            together = list(pool.map(lambda args: scorer(*args), inputs))
    finally:
        batcher.close()
    assert batcher.stats.batches < len(inputs)  # events really shared forward passes
    for a_event, b_event in zip(alone, together, strict=True):
        for (ma, sa, ra), (mb, sb, rb) in zip(a_event, b_event, strict=True):
            assert (sa, ra) == (sb, rb) and ma.keys() == mb.keys()
            for k in ma:
                assert mb[k] == pytest.approx(ma[k], rel=1e-4, abs=1e-5), k


def test_a_single_image_event_scores_like_the_per_image_formulas(
    tiny_evaluator: tuple[Path, dict[str, float]], runtime: GeneratorRuntime
) -> None:
    """A 1-creative event: the batched per-image scores are the plain formulas on its one image
    (reference fidelity against the nearest bank picture, sigmoid of the calibrated cosine,
    pixel spread), and with no other image there is no near-duplicate and no diversity."""
    import torch
    import torch.nn.functional as F

    from shared.eval.metrics import reference_fidelity
    from shared.eval.model import pil_to_uint8

    scorer = _scorer(tiny_evaluator, runtime, GateThresholds(min_alignment=None))
    assert scorer.bank is not None and len(scorer.bank)
    event = sample_events("one-image", count=1, sizes=["300x250"])[0]
    plan = plan_event(event)
    assert len(plan.images) == 1 and len(plan.creatives) == 1
    (req,) = plan.images
    (image,) = runtime.generate([req.prompt], [req.seed])
    ((metrics, servable, _),) = scorer(
        event, plan, {req.key: image}, [Image.new("RGB", (300, 250), (20, 90, 200))]
    )
    raw = pil_to_uint8([image], scorer.evaluator.cfg.image_size)
    with torch.inference_mode():
        enc = scorer.evaluator(raw.float() / 127.5 - 1.0)
        text = runtime.encoder.encode([req.prompt]).float()
    cos = float((enc.embedding * F.normalize(text, dim=1)).sum())
    psnr, ssim = reference_fidelity(raw, scorer.bank.images[scorer.bank.nearest(enc.features)])
    assert metrics["cosine"] == pytest.approx(cos, abs=1e-5)
    assert metrics["alignment"] == pytest.approx(
        float(scorer.evaluator.alignment(torch.tensor(cos))), abs=1e-5
    )
    assert metrics["product_std"] == pytest.approx(float(raw.float().std()), rel=1e-5)
    assert metrics["psnr_ref"] == pytest.approx(float(psnr[0]), rel=1e-4)
    assert metrics["ssim_ref"] == pytest.approx(float(ssim[0]), abs=1e-4)
    assert metrics["duplicate_similarity"] == -1.0 and metrics["near_duplicate"] == 0.0
    assert "diversity" not in metrics and servable
