"""`adgen eval`: train the AdGen evaluator and measure generator checkpoints with it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Evaluation: the AdGen evaluator, per-model reports (docs/evaluation.md).",
    no_args_is_help=True,
)


def _command_line() -> str:
    import shlex
    import sys

    args = sys.argv[1:]
    if args[:1] != ["eval"]:
        args = ["eval", *args]
    return "adgen " + " ".join(shlex.quote(a) for a in args)


@app.command("train")
def train(
    data: Annotated[Path, typer.Option("--data", help="Catalog dir (images/ + metadata.jsonl).")],
    out: Annotated[Path, typer.Option("--out", help="Evaluator dir to write.")] = Path(
        "models/evaluator"
    ),
    steps: Annotated[int, typer.Option("--steps", help="Optimiser steps.")] = 1500,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Images per step.")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Seed for weights, batches, augments.")] = 0,
    threads: Annotated[int | None, typer.Option("--threads", help="torch CPU threads.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="First N items/split.")] = None,
) -> None:
    """Train the evaluator (image encoder vs frozen MiniLM captions + category head)."""
    from tqdm import tqdm

    from shared.eval.card import write_model_card
    from shared.eval.train import EvaluatorTrainOptions, train_evaluator
    from shared.text.encoder import TextEncoder

    opts = EvaluatorTrainOptions(steps=steps, batch_size=batch_size, seed=seed, threads=threads)
    with tqdm(total=steps, desc="evaluator", unit="step") as bar:

        def progress(step: int, total: int, logs: dict[str, float]) -> None:
            bar.update(1)
            if step % 10 == 0 or step == total:
                bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})

        metrics = train_evaluator(data, out, TextEncoder("cpu"), opts, progress, limit=limit)
    write_model_card(out, _command_line())
    typer.echo(
        f"saved {out}: val R-precision@1 {metrics['r_precision']:.3f} "
        f"(1 of {metrics['r_precision_candidates']:.0f}), category accuracy "
        f"{metrics['category_accuracy']:.3f}, {metrics['wall_time_s']:.0f} s"
    )


@app.command("run")
def run(
    data: Annotated[Path, typer.Option("--data", help="Catalog dir with a test split.")],
    model: Annotated[Path, typer.Option("--model", help="Generator checkpoint dir.")] = Path(
        "models/default"
    ),
    samples: Annotated[int, typer.Option("--samples", help="Generated images per row.")] = 1000,
    out: Annotated[Path | None, typer.Option("--out", help="Report dir (default --model).")] = None,
    evaluator: Annotated[Path | None, typer.Option("--evaluator", help="Evaluator dir.")] = None,
    split: Annotated[str, typer.Option("--split", help="Held-out split.")] = "test",
    seed: Annotated[int, typer.Option("--seed", help="Seed for prompts and noise.")] = 0,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Upsert metrics into model_versions.")
    ] = True,
    threads: Annotated[int | None, typer.Option("--threads", help="torch CPU threads.")] = None,
) -> None:
    """Report FID/KID (evaluator features), R-precision, IS analogue, alignment and PSNR/SSIM
    for a checkpoint, beside real held-out images (ceiling) and an untrained generator (floor)."""
    import torch

    from shared.config import get_settings
    from shared.eval.model_report import ReportOptions, run_report

    if threads:
        torch.set_num_threads(threads)
    settings = get_settings()
    opts = ReportOptions(samples=samples, split=split, seed=seed, command=_command_line())
    report = run_report(
        model_dir=model,
        data_dir=data,
        out_dir=out or model,
        evaluator_dir=evaluator or settings.resolved_evaluator_dir,
        opts=opts,
        db_url=settings.resolved_database_url if record else None,
    )
    typer.echo(report.markdown_table)


@app.command("kinds")
def kinds(
    model: Annotated[
        str,
        typer.Argument(help='MODEL_DIR, or "baseline", "curve", "plot", "judge", "ceiling"'),
    ],
    data: Annotated[Path, typer.Argument(help="Catalog dir (images/ + metadata.jsonl)")],
    prompts: Annotated[int, typer.Option(help="Learnt products in unseen colours")] = 128,
    seeds: Annotated[int, typer.Option(help="Samples per prompt")] = 2,
    seed: Annotated[int, typer.Option(help="Seed for the prompt draw")] = 1,
    evaluator: Annotated[Path, typer.Option(help="Evaluator dir")] = Path("models/evaluator"),
    run_dir: Annotated[
        list[Path] | None, typer.Option("--run-dir", help="curve/plot: training run dir(s)")
    ] = None,
    out: Annotated[Path, typer.Option(help="plot: the figure")] = Path("kind_curve.png"),
    baseline: Annotated[
        Path | None, typer.Option(help="plot: `adgen eval kinds baseline` JSON, shown as a point")
    ] = None,
    grids: Annotated[
        Path | None, typer.Option(help="MODEL_DIR/baseline: keep each prompt set's grid here")
    ] = None,
    tradeoff: Annotated[
        bool,
        typer.Option(
            help="MODEL_DIR: kind and colour with parts of the re-colour output turned off"
        ),
    ] = False,
    plot_out: Annotated[
        Path | None, typer.Option("--plot", help="--tradeoff: also draw it to this PNG")
    ] = None,
) -> None:
    """Kind and colour accuracy at scale (docs/gan.md): a model, the retrieve + recolour
    baseline, every snapshot of a run (curve), the curves of several runs (plot), the
    judge itself on real pictures of each split (judge), or how much of the catalog the
    re-colour output can make black or white at each range (ceiling); with --tradeoff, a
    model's kind and colour with parts of its re-colour output turned off."""
    import json

    from shared.training import kind_check

    if model == "plot":
        kind_check.plot(run_dir or [], out, prompts, baseline)
        return
    if model == "ceiling":
        typer.echo(
            f"{'gamma range':>11} {'sat floor':>9} {'pictures':>8} {'black':>6} {'white':>6}"
        )
        for row in kind_check.shade_ceiling(data):
            typer.echo(
                f"{row['gamma_range']:>11.2f} {row['sat_floor']:>9.4f} {row['pictures']:>8.0f} "
                f"{row['black']:>6.3f} {row['white']:>6.3f}"
            )
        return
    from shared.eval.model import load_evaluator
    from shared.text.encoder import TextEncoder

    embed, judge = TextEncoder(device="cpu").encode, load_evaluator(evaluator)
    if model == "judge":
        typer.echo(f"{'split':<6} {'pictures':<11} {'products':>8} {'kind top-1':>10} {'top-5':>6}")
        for row in kind_check.judge_check(data, embed, judge):
            typer.echo(
                f"{row['split']:<6} {row['variant']:<11} {row['kind_candidates']:>8.0f} "
                f"{row['kind_top1']:>10.3f} {row['kind_top5']:>6.3f}"
            )
        read = kind_check.colour_readings(data)
        if read["pictures"]:
            typer.echo(
                f"colour named right on the {read['pictures']:,.0f} coloured train pictures: "
                f"check {read['check']:.3f}, mean Lab colour {read['lab']:.3f}"
            )
        return
    if model == "curve":
        if not run_dir:
            raise typer.BadParameter("curve needs --run-dir RUN_DIR")
        for run in run_dir:
            for row in kind_check.curve(run, data, embed, judge, prompts, seeds, seed):
                typer.echo(json.dumps(row))
        return
    if tradeoff:
        from shared.training import recolour_tradeoff as trade

        typer.echo(f"{'re-colour output':<36} {'kind top-1':>10} {'top-5':>6} {'colour':>6}")
        rows = trade.tradeoff(model, data, embed, judge, prompts, seeds, seed)
        for setting in rows:
            typer.echo(
                f"{setting['setting']:<36} {setting['kind_top1']:>10.3f} "
                f"{setting['kind_top5']:>6.3f} {setting['colour_match']:>6.3f}"
            )
        real = trade.real_new_colour_point(data, embed, judge, prompts, seed)
        if real:
            typer.echo(
                f"{'real pictures, re-coloured (n=' + format(real['pictures'], '.0f') + ')':<36} "
                f"{real['kind_top1']:>10.3f} {'':>6} {real['colour_match']:>6.3f}"
            )
        if plot_out is not None:
            trade.plot(rows, real, plot_out)
            typer.echo(f"plot: {plot_out}")
        return
    report = kind_check.measure(model, data, embed, judge, prompts, seeds, seed, grids=grids)
    typer.echo(json.dumps(report, indent=2))


@app.command("titles")
def titles(
    data: Annotated[Path | None, typer.Option(help="Labelled titles (JSONL)")] = None,
    misses: Annotated[bool, typer.Option(help="Also list every wrong title")] = False,
) -> None:
    """Noun and colour accuracy of the title reader on labelled shop titles, per language
    (docs/multilingual.md)."""
    from shared.text import title_eval

    scores = title_eval.evaluate(title_eval.load_titles(data or title_eval.DATA))
    typer.echo(title_eval.table(scores))
    if misses:
        for name, s in scores.items():
            for miss in s.misses:
                typer.echo(f"[{name}] {miss}")
