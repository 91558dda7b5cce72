"""kind_check's curve over kept snapshots, and the A/B figure drawn from two runs' curves."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from shared.training.kind_check import plot


def test_plot_draws_both_runs_from_their_curves(tmp_path: Path) -> None:
    for name, slope in (("dfgan", 1e-6), ("hybrid", 3e-6)):
        run = tmp_path / name
        run.mkdir()
        rows = [
            {
                "snapshot": f"step_{s:06d}",
                "step": s,
                "images_seen": 32 * s,
                "wall_s": 2.0 * s,
                "kind_top1": 0.008 + slope * 32 * s,
            }
            for s in (100, 200, 300)
        ]
        (run / "kind_curve.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plot([tmp_path / "dfgan", tmp_path / "hybrid"], tmp_path / "ab.png")
    with Image.open(tmp_path / "ab.png") as im:
        assert im.width > im.height > 200  # two panels side by side
