"""Terminal front end for the training loop: resolves flags, draws a progress bar."""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from shared.gan.config import GANConfig
from shared.training.loop import TrainOptions, TrainResult, train


def run_training_cli(
    data: Path,
    out: Path,
    config: Path | None = None,
    resume: bool = False,
    steps: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
    sample_every: int = 250,
    checkpoint_every: int = 250,
    init_from: Path | None = None,
    keep_every: int = 0,
    distributed: bool = False,
) -> TrainResult:
    cfg = GANConfig.load(config) if config else GANConfig()
    opts = TrainOptions(
        data=Path(data),
        out=Path(out),
        cfg=cfg,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        device=device,
        precision=precision,
        threads=threads,
        resume=resume,
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
        init_from=init_from,
        keep_every=keep_every,
        distributed=distributed,
    )
    writer = True
    if distributed:  # join the group now, so that only rank 0 draws the bar and prints
        from shared.training.distributed import init_ranks
        from shared.training.loop import resolve_device

        writer = init_ranks(resolve_device(device))[0].writer
    bar = tqdm(
        total=steps or cfg.steps,
        unit="step",
        dynamic_ncols=True,
        mininterval=2.0,
        disable=not writer,
    )

    def progress(step: int, total: int, stats: dict[str, float]) -> None:
        bar.total = total
        bar.n = step
        bar.set_postfix(
            {
                "D": f"{stats['loss_d']:.3f}",
                "G": f"{stats['loss_g']:.3f}",
                "img/s": f"{stats['images_per_s']:.1f}",
            },
            refresh=False,
        )
        bar.refresh()

    stop_file = Path(out) / "STOP"  # `touch OUT/STOP` ends the run cleanly at the next step

    try:
        result = train(opts, progress_fn=progress, abort_fn=stop_file.exists)
    finally:
        bar.close()
    if not writer:
        return result
    print(
        json.dumps(
            {
                "steps": result.steps,
                "wall_s": round(result.wall_s, 1),
                "images_per_s": round(result.images_per_s, 1),
                "model_dir": str(result.model_dir),
            }
        )
    )
    return result
