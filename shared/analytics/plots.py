"""Report plots as PNG bytes. Pure: plain numbers in, bytes out (None when there is no data).

Uses `matplotlib.figure.Figure` directly (no pyplot), so there is no global figure state and no
GUI backend is ever touched.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

_DPI = 100
_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _grid(n: int, cols: int = 5) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def score_histograms(values: Mapping[str, Sequence[float]], bins: int = 20) -> bytes | None:
    """One small histogram per metric, in the order given."""
    metrics = [m for m, v in values.items() if len(v) > 0]
    if not metrics:
        return None
    rows, cols = _grid(len(metrics))
    fig = Figure(layout="constrained", figsize=(2.1 * cols, 1.6 * rows + 0.3))
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        data = list(values[metric])
        ax.hist(data, bins=bins, color=_COLOURS[i % len(_COLOURS)], edgecolor="white")
        ax.set_title(f"{metric} (n={len(data)})", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Score distributions", fontsize=10)
    return _png(fig)


def model_comparison(means: Mapping[str, Mapping[str, float]]) -> bytes | None:
    """Mean score per metric, one bar per model. One panel per metric because metric scales
    differ (PSNR in dB beside [0, 1] confidences)."""
    models = list(means)
    metrics = sorted({m for per in means.values() for m in per})
    if not models or not metrics:
        return None
    rows, cols = _grid(len(metrics))
    fig = Figure(layout="constrained", figsize=((1.2 + 0.3 * len(models)) * cols, 1.6 * rows + 0.3))
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        heights = [means[m].get(metric, float("nan")) for m in models]
        ax.bar(
            range(len(models)),
            heights,
            color=[_COLOURS[j % len(_COLOURS)] for j in range(len(models))],
        )
        ax.set_xticks(range(len(models)), [str(j + 1) for j in range(len(models))])
        ax.set_title(metric, fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle("Mean score per model (numbered as in the model table)", fontsize=10)
    return _png(fig)


def timing_boxplot(stages: Mapping[str, Sequence[float]]) -> bytes | None:
    """Processing time per stage (ms, log scale: upload and generation differ by orders)."""
    names = [s for s, v in stages.items() if len(v) > 0]
    if not names:
        return None
    fig = Figure(layout="constrained", figsize=(5.0, 0.4 * len(names) + 1.0))
    ax = fig.add_subplot(1, 1, 1)
    data = [[max(x, 1e-3) for x in stages[s]] for s in names]
    try:
        ax.boxplot(data, orientation="horizontal", showfliers=True)
    except TypeError:  # matplotlib < 3.10 spells it `vert=False`
        ax.boxplot(data, vert=False, showfliers=True)
    ax.set_yticks(range(1, len(names) + 1), [f"{s} (n={len(stages[s])})" for s in names])
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds")
    ax.set_title("Processing time", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)
