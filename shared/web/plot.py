"""The performance page's CTR-over-time plot as PNG bytes (pure: numbers in, bytes out)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from matplotlib.figure import Figure

_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#333333")


def ctr_plot(series: dict[str, list[tuple[date, int, int]]]) -> bytes | None:
    """Daily CTR (%) per series; None when there is nothing to draw."""
    series = {k: v for k, v in series.items() if any(i for _d, i, _c in v)}
    if not series:
        return None
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for n, (name, points) in enumerate(series.items()):
        days: list[Any] = [d for d, i, _c in points if i]  # matplotlib takes dates
        ctr = [100 * c / i for _d, i, c in points if i]
        ax.plot(
            days,
            ctr,
            marker="o",
            markersize=3,
            label=name,
            color=_COLOURS[n % len(_COLOURS)],
            linewidth=2.2 if "(all)" in name else 1.2,
        )
    ax.set_ylabel("CTR (%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncols=2)
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
