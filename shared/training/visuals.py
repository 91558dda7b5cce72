"""Sample grids with captions, and the loss plot."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def captioned_grid(
    images: list[Image.Image],
    captions: list[str],
    columns: int = 8,
    scale: int = 2,
    title: str | None = None,
) -> Image.Image:
    """Images upscaled (nearest, so pixels stay honest) with a wrapped caption under each."""
    font = ImageFont.load_default()
    side = images[0].width * scale
    text_h = 26
    rows = (len(images) + columns - 1) // columns
    top = 18 if title else 0
    grid = Image.new("RGB", (columns * side, top + rows * (side + text_h)), "white")
    draw = ImageDraw.Draw(grid)
    if title:
        draw.text((4, 3), title, fill=(0, 0, 0), font=font)
    width_chars = max(8, side // 6)
    for i, (image, caption) in enumerate(zip(images, captions, strict=True)):
        x, y = (i % columns) * side, top + (i // columns) * (side + text_h)
        grid.paste(image.resize((side, side), Image.Resampling.NEAREST), (x, y))
        lines = textwrap.wrap(caption, width_chars)[:2]
        for j, line in enumerate(lines):
            draw.text((x + 2, y + side + 1 + 12 * j), line, fill=(0, 0, 0), font=font)
    return grid


def loss_plot(log_path: str | Path, out_path: str | Path, smooth: int = 25) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    records = [r for r in records if "loss_d" in r]
    if not records:
        return
    steps = [r["step"] for r in records]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, keys in zip(axes, (("loss_d", "loss_g"), ("d_real", "d_fake", "d_wrong")), strict=True):
        for key in keys:
            vals = [r[key] for r in records]
            k = max(1, min(smooth, len(vals) // 5 or 1))
            sm = [
                sum(vals[max(0, i - k + 1) : i + 1]) / len(vals[max(0, i - k + 1) : i + 1])
                for i in range(len(vals))
            ]
            ax.plot(steps, sm, label=key)
        ax.set_xlabel("step")
        ax.legend()
        ax.grid(alpha=0.3)
    axes[0].set_title("hinge losses (moving average)")
    axes[1].set_title("mean D logits")
    fig.tight_layout()
    fig.savefig(out_path, dpi=80)
    plt.close(fig)


def kind_curve_plot(
    curves: dict[str, list[dict[str, float]]],
    out_path: str | Path,
    chance: float | None = None,
    title: str = "",
    references: dict[str, tuple[float, float]] | None = None,
) -> None:
    """kind top-1 against training images seen, against time, and against colour accuracy, one
    line per run (rows as kind_check's curve writes them).  Time is the run's own CPU time where
    every row has it (fair when other jobs share the machine), else wall time.  The third panel
    shows the trade the evaluator imposes (re-colouring a drawing costs kind accuracy);
    ``references`` are fixed points on it, name -> (colour right, kind top-1), e.g. the
    retrieve + recolour baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharey=True)
    cpu = all(r.get("cpu_s") is not None for rows in curves.values() for r in rows)
    clock = "cpu_s" if cpu else "wall_s"
    for name, rows in curves.items():
        rows = sorted(rows, key=lambda r: r["step"])
        y = [r["kind_top1"] for r in rows]
        (line,) = axes[0].plot([r["images_seen"] for r in rows], y, marker="o", label=name)
        axes[1].plot([r[clock] / 60 for r in rows], y, marker="o", label=name)
        blind = [r for r in rows if r.get("lite2_kind_top1") is not None]  # from session 7 on
        if blind:  # the colour-blind second judge, dashed in the run's colour
            axes[0].plot(
                [r["images_seen"] for r in blind],
                [r["lite2_kind_top1"] for r in blind],
                marker="x",
                linestyle="--",
                color=line.get_color(),
                label=f"{name}: Lite2 colour-blind kind",
            )
        coloured = [r for r in rows if r.get("colour_match") is not None]  # older curves lack it
        if coloured:
            axes[2].plot(
                [r["colour_match"] for r in coloured],
                [r["kind_top1"] for r in coloured],
                marker="o",
                color=line.get_color(),
            )
            last = coloured[-1]
            axes[2].annotate(
                f"step {last['step']:,}", (last["colour_match"], last["kind_top1"]), fontsize=7
            )
    for name, (colour, kind) in (references or {}).items():
        axes[2].plot([colour], [kind], marker="*", markersize=12, linestyle="", label=name)
    time_label = "CPU time of the run (min)" if cpu else "wall time (min, contended CPU)"
    xlabels = ("training images seen", time_label, "colour right (share of coloured prompts)")
    for ax, xlabel in zip(axes, xlabels, strict=True):
        if chance is not None:
            ax.axhline(chance, color="grey", linestyle=":", label="chance")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("kind top-1, unseen colours (kind_check)")
    axes[0].xaxis.set_major_formatter(lambda v, _: f"{v / 1000:.0f}k")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=8)
    if references:
        axes[2].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
