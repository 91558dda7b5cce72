from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.db.engine import session_scope
from shared.db.models import ModelVersion
from shared.eval.model_report import BASELINE, FLOOR, MODEL, REAL, ReportOptions, run_report
from shared.eval.registry import METRICS
from shared.generation import save_untrained_model
from tests.conftest import TINY_GAN
from tests.unit.eval.conftest import HashEncoder


def test_metric_registry_names() -> None:
    assert {
        "fid",
        "kid",
        "is_analogue",
        "r_precision",
        "alignment",
        "category_accuracy",
        "reference_fidelity",
        "fd_lite2",
        "kid_lite2",
        "is_lite2",
        "imagenet_agreement",
        "seed_diversity",
    } <= set(METRICS)


def test_report_writes_files_and_records_model_version(
    tmp_path: Path,
    tiny_evaluator: tuple[Path, dict[str, float]],
    shapes_catalog: Path,
    hash_encoder: HashEncoder,
) -> None:
    model_dir = save_untrained_model(tmp_path / "gan", seed=1, **TINY_GAN)
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    report = run_report(
        model_dir=model_dir,
        data_dir=shapes_catalog,
        out_dir=tmp_path / "out",
        evaluator_dir=tiny_evaluator[0],
        opts=ReportOptions(samples=24),
        db_url=url,
        encoder=hash_encoder,
    )  # type: ignore[arg-type]
    assert set(report.rows) == {REAL, MODEL, FLOOR, BASELINE}
    for name in ("eval_report.json", "EVAL_REPORT.md", "eval_grid.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    data = json.loads((tmp_path / "out" / "eval_report.json").read_text())
    assert data["rows"][MODEL]["fid_n"] == 24
    assert "FID (AdGen evaluator features)" in report.markdown_table
    # real images retrieve their captions better than an untrained generator's noise
    assert report.rows[REAL]["r_precision"] > report.rows[FLOOR]["r_precision"]
    assert report.rows[REAL]["kid"] < report.rows[FLOOR]["kid"]
    # Lite2 (ImageNet) metrics on every row, N beside them; real pictures beat noise there too
    for name in (REAL, MODEL, FLOOR, BASELINE):
        assert {"fd_lite2", "kid_lite2", "kid_lite2_n", "is_lite2"} <= report.rows[name].keys()
    assert data["rows"][MODEL]["fd_lite2_n"] == 24
    assert report.rows[REAL]["kid_lite2"] < report.rows[FLOOR]["kid_lite2"]
    assert report.rows[BASELINE]["kid_lite2"] < report.rows[FLOOR]["kid_lite2"]  # real pictures
    assert "FD_lite2" in report.markdown_table and "KID_lite2" in report.markdown_table
    with session_scope(url) as s:
        row = s.get(ModelVersion, report.info["model"]["version"])
        assert row is not None and row.metrics is not None
        assert row.metrics["eval"]["fid"] == pytest.approx(report.rows[MODEL]["fid"])
