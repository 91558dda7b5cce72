"""Where a creative's CPU time goes, as a stacked bar chart (bench/where_the_time_goes.png)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the headless backend)


def plot_costs(
    bars: dict[str, dict[str, float]],
    out: Path,
    title: str,
    order: list[str] | None = None,
    xlabel: str = "CPU ms per creative (all processes on the host)",
) -> Path:
    """bars: {bar label: {segment: CPU ms per creative}}; segments left to right in `order`
    (default: first seen first)."""
    segments: list[str] = list(order or [])
    for parts in bars.values():
        segments += [s for s in parts if s not in segments]
    cmap = plt.get_cmap("tab20")
    colours = [cmap(i / 20) for i in range(20)]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.9 * len(bars)))
    labels = list(bars)
    for i, seg in enumerate(segments):
        left = [sum(bars[b].get(s, 0.0) for s in segments[:i]) for b in labels]
        width = [bars[b].get(seg, 0.0) for b in labels]
        rects = ax.barh(
            labels,
            width,
            left=left,
            color=colours[i % len(colours)],
            label=seg,
            edgecolor="white",
            linewidth=0.5,
        )
        for rect, w in zip(rects, width, strict=True):
            if w >= 0.1 * max(sum(p.values()) for p in bars.values()):
                label = f"{w:.1f}" if w < 10 else f"{w:.0f}"
                ax.text(
                    rect.get_x() + w / 2,
                    rect.get_y() + rect.get_height() / 2,
                    label,
                    ha="center",
                    va="center",
                    fontsize=8,
                )
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=4, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out
