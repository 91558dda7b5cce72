"""`adgen train`: train the text-conditional GAN on a catalog directory."""

from __future__ import annotations

from pathlib import Path

import typer


def train(
    data: Path = typer.Option(..., "--data", help="Catalog directory (images/ + metadata.jsonl)."),
    out: Path = typer.Option(..., "--out", help="Run directory for checkpoints, samples, logs."),
    config: Path | None = typer.Option(None, "--config", help="GANConfig JSON file."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run's last checkpoint."),
    steps: int | None = typer.Option(None, "--steps", help="Total optimisation steps."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Images per step."),
    seed: int = typer.Option(0, "--seed", help="Seed for weights, data order and noise."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
) -> None:
    """Train a generator/discriminator pair; see docs/gan.md."""
    from shared.training.cli_runner import run_training_cli

    run_training_cli(
        data=data, out=out, config=config, resume=resume, steps=steps,
        batch_size=batch_size, seed=seed, device=device,
    )
