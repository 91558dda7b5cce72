"""`adgen train`: train the text-conditional GAN on a catalog directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def train(
    data: Annotated[Path, typer.Option("--data", help="Catalog dir (images/ + metadata.jsonl).")],
    out: Annotated[Path, typer.Option("--out", help="Run dir for checkpoints, samples, logs.")],
    config: Annotated[Path | None, typer.Option("--config", help="GANConfig JSON file.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last save.")] = False,
    init_from: Annotated[
        Path | None,
        typer.Option(
            "--init-from",
            help="Start a new run from a model dir (e.g. models/default): fine-tune "
            "it on your catalog or train it further.",
        ),
    ] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Total steps.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="Images/step.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for weights, data, noise.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32 or bf16.")] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="torch CPU threads.")] = None,
    sample_every: Annotated[int, typer.Option("--sample-every", help="Steps/grid.")] = 250,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="Steps/save.")] = 250,
    distributed: Annotated[
        bool,
        typer.Option("--distributed", help="One rank under torchrun (gloo on CPU, NCCL on GPU)."),
    ] = False,
    keep_every: Annotated[
        int,
        typer.Option(
            "--keep-every", help="Also keep model/ as snapshots/step_N every N steps (0: never)."
        ),
    ] = 0,
) -> None:
    """Train a generator/discriminator pair on a catalog; see docs/gan.md."""
    from shared.training.cli_runner import run_training_cli

    run_training_cli(
        data=data,
        out=out,
        config=config,
        resume=resume,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        precision=precision,
        threads=threads,
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
        init_from=init_from,
        keep_every=keep_every,
        distributed=distributed,
    )
