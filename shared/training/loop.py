"""The training loop: a plain function driven through progress/abort callbacks.

It knows nothing about who calls it (CLI progress bar, Celery task, test).  A run directory holds
options.json (written before the first step), log.jsonl, samples/, loss.png, state.safetensors
(everything needed for an exact resume) and model/ (the sampling model: EMA generator + D).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from shared.catalog.augment import PALETTE, SHADES
from shared.gan.checkpoint import save_model
from shared.gan.config import GANConfig
from shared.gan.ema import EMA
from shared.gan.exemplars import build_exemplar_bank
from shared.gan.generator import Generator
from shared.gan.losses import palette_targets
from shared.gan.projected import build_discriminator
from shared.gan.sampling import to_pil
from shared.training.data import Embed, TrainingSet, load_training_set
from shared.training.distributed import Ranks, close_ranks, init_ranks
from shared.training.state import load_training_state, save_training_state
from shared.training.step import Batch, autocast, train_step
from shared.training.visuals import captioned_grid, loss_plot

_WORD_TARGETS = palette_targets(PALETTE, SHADES)[1]  # rows in data.COLOUR_WORD_ORDER
ProgressFn = Callable[[int, int, dict[str, float]], None]
AbortFn = Callable[[], bool]


@dataclass
class TrainOptions:
    data: Path  # catalog directory (images/ + metadata.jsonl)
    out: Path  # run directory
    cfg: GANConfig = field(default_factory=GANConfig)
    steps: int | None = None  # total steps (None: cfg.steps)
    batch_size: int | None = None  # None: cfg.batch_size
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda[:i]
    precision: str = "auto"  # auto | fp32 | bf16 (autocast)
    channels_last: bool | None = None  # None: resolve_channels_last decides
    threads: int | None = None  # torch intra-op threads (None: torch's default)
    resume: bool = False
    init_from: Path | None = None  # model dir (config + EMA G + D) to start a new run from
    split: str | None = "train"  # which catalog split to learn from (None: all)
    gp_every: int = 4  # lazy MA-GP interval (weight scaled to match)
    log_every: int = 10
    sample_every: int = 250
    checkpoint_every: int = 250
    keep_every: int = 0  # also keep a copy of model/ every n steps (learning curves)
    distributed: bool = False  # join torchrun's process group (shared/training/distributed)
    prompts: list[str] | None = None  # fixed sample-grid prompts (None: held-out captions)
    n_prompts: int = 32


@dataclass
class TrainResult:
    steps: int
    wall_s: float
    images_per_s: float
    model_dir: Path
    aborted: bool = False
    last: dict[str, float] = field(default_factory=dict)
    generator: torch.nn.Module | None = None  # the trained (non-EMA) generator, this rank's copy


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN runs bf16 natively here (AVX-512 BF16 / AMX).  On an AVX2-only CPU bf16
    autocast is emulated and measured ~40x *slower* than fp32 (docs/gan.md)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN: no fast bf16 either
        return False


def resolve_precision(precision: str, device: torch.device) -> bool:
    """True for bf16 autocast.  ``auto``: bf16 on CUDA where supported and on CPUs with bf16
    units (~2x faster than fp32 there, docs/gan.md); fp32 everywhere else."""
    if precision == "auto":
        if device.type == "cuda":
            return bool(torch.cuda.is_bf16_supported())
        return device.type == "cpu" and cpu_has_fast_bf16()
    return precision == "bf16"


def resolve_channels_last(channels_last: bool | None, device: torch.device, bf16: bool) -> bool:
    """``None``: on for CPU (fp32 +24%, bf16 no worse, docs/gan.md) and for CUDA with bf16."""
    if channels_last is None:
        return device.type == "cpu" or bf16
    return channels_last


def default_prompts(data: Path, n: int, seed: int) -> list[str]:
    from shared.catalog.format import load_catalog

    for split in ("test", "val", "train", None):
        items = load_catalog(data, split)
        if items:
            break
    by_concept: dict[str, list[str]] = {}
    for it in items:
        by_concept.setdefault(it.concept or it.caption, []).append(it.caption)
    rng = random.Random(seed)
    concepts = sorted(by_concept)
    rng.shuffle(concepts)
    return [rng.choice(sorted(by_concept[c])) for c in concepts[:n]]


def _default_embed() -> Embed:
    from shared.text.encoder import TextEncoder

    return TextEncoder(device="cpu").encode


def train(
    opts: TrainOptions,
    progress_fn: ProgressFn | None = None,
    abort_fn: AbortFn | None = None,
    embed: Embed | None = None,
) -> TrainResult:
    cfg = opts.cfg
    cfg.steps = opts.steps or cfg.steps
    cfg.batch_size = opts.batch_size or cfg.batch_size
    device = resolve_device(opts.device)
    ranks = Ranks()
    if opts.distributed:
        ranks, device = init_ranks(device)
    try:
        return _train(opts, cfg, device, ranks, progress_fn, abort_fn, embed)
    finally:
        close_ranks(ranks)


def _train(
    opts: TrainOptions,
    cfg: GANConfig,
    device: torch.device,
    ranks: Ranks,
    progress_fn: ProgressFn | None,
    abort_fn: AbortFn | None,
    embed: Embed | None,
) -> TrainResult:
    out, steps, batch_size = Path(opts.out), cfg.steps, cfg.batch_size
    bf16 = resolve_precision(opts.precision, device)
    channels_last = resolve_channels_last(opts.channels_last, device, bf16)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    out.mkdir(parents=True, exist_ok=True)
    (out / "samples").mkdir(exist_ok=True)
    state_path, log_path = out / "state.safetensors", out / "log.jsonl"
    if state_path.exists() and not opts.resume:
        raise FileExistsError(f"{out} already holds a run; pass resume=True or use a new dir")
    if opts.resume and (out / "config.json").exists():
        cfg = GANConfig.load(out / "config.json")  # the run's own config wins over flags
        cfg.steps = steps
    elif opts.init_from is not None:
        cfg = _warm_start_config(Path(opts.init_from), cfg)
        cfg.steps, cfg.batch_size = steps, batch_size

    embed = embed or _default_embed()
    data = load_training_set(opts.data, cfg.image_size, embed, opts.split, seed=opts.seed)
    catalog_size = len(data)
    bank = None  # built from the whole catalog, before the ranks take their shards
    if cfg.g_arch == "exemplar" and not (opts.resume and state_path.exists()):
        bank = build_exemplar_bank(
            data.items,
            embed,
            cfg.image_size,
            cfg.exemplar_size,
            cfg.exemplar_per_concept,
            cfg.exemplar_map,
        )
        cfg.exemplar_rows, cfg.exemplar_pictures = len(bank.keys), len(bank.maps)
        cfg.exemplar_concepts = len(bank.first)
    if ranks.active:
        data = data.shard(ranks.rank, ranks.world)
    prompts = opts.prompts or default_prompts(opts.data, opts.n_prompts, opts.seed)
    prompt_emb = embed(prompts).float().to(device)
    resolved = {
        **asdict(opts),
        "cfg": json.loads(cfg.to_json()),
        "steps": steps,
        "batch_size": batch_size,
        "device": str(device),
        "bf16": bf16,
        "channels_last": channels_last,
        "threads": torch.get_num_threads(),
        "train_images": catalog_size,
        "prompts": prompts,
        "torch": torch.__version__,
        "world_size": ranks.world,
        "images_per_step": batch_size * ranks.world,
    }
    if ranks.writer:
        (out / "options.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n")
        cfg.save(out / "config.json")

    torch.manual_seed(opts.seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    gen = Generator(cfg)
    if bank is not None:
        gen.set_bank(bank)
    gen = gen.to(device)
    disc = build_discriminator(cfg).to(device)
    gen.to(memory_format=fmt)  # type: ignore[call-overload]  # (missing from torch's stubs)
    disc.to(memory_format=fmt)  # type: ignore[call-overload]
    ema = EMA(gen, cfg.ema_beta)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr_g, betas=cfg.betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr_d, betas=cfg.betas)
    rank_seed = opts.seed + ranks.seed_offset()  # each rank its own data, noise, augmentation
    rngs = {
        "data": torch.Generator().manual_seed(rank_seed),
        "noise": torch.Generator().manual_seed(rank_seed + 1),
        "aug": torch.Generator(device=device).manual_seed(rank_seed + 2),
    }
    sample_z = torch.randn(
        len(prompts), cfg.z_dim, generator=torch.Generator().manual_seed(opts.seed + 3)
    ).to(device)
    modules = {"gen": gen, "disc": disc, "gen_ema": ema.model}
    optims: dict[str, torch.optim.Optimizer] = {"opt_g": opt_g, "opt_d": opt_d}
    start, elapsed, cpu_elapsed = 0, 0.0, 0.0
    lineage: dict[str, Any] = {}
    if opts.init_from is not None:  # carried into every save so the model says where it began
        base_meta = json.loads((Path(opts.init_from) / "meta.json").read_text())
        lineage = {
            "init_from": str(opts.init_from),
            "init_version": base_meta.get("version"),
            "init_steps": base_meta.get("total_steps", base_meta.get("step")),
        }
    if opts.resume and state_path.exists():
        info = load_training_state(state_path, modules, optims, rngs)
        start, elapsed = int(info["step"]), float(info.get("wall_s", 0.0))
        cpu_elapsed = float(info.get("cpu_s", 0.0))
        _truncate_log(log_path, start)
    elif opts.init_from is not None:
        _warm_start(Path(opts.init_from), gen, disc, ema.model)
    if ranks.active:
        ranks.broadcast(gen, disc, ema.model)
        if start and not ranks.writer:  # the state file holds rank 0's RNGs: derive our own
            for i, g in enumerate(rngs.values()):
                g.manual_seed(rank_seed + 7919 * start + i)
    sync = ranks.average_gradients if ranks.active else None

    def cpu_used() -> float:
        """CPU seconds of this process (all its threads) over the whole run: the fair budget
        when other jobs share the machine, which wall time is not."""
        return cpu_elapsed + time.process_time() - cpu0

    def checkpoint(step: int, wall: float) -> None:
        if not ranks.writer:
            return
        cpu = cpu_used()
        save_training_state(
            state_path, modules, optims, rngs, {"step": step, "wall_s": wall, "cpu_s": cpu}
        )
        save_model(
            out / "model",
            cfg,
            ema.model,
            disc,
            meta={
                "step": step,
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "train_images": len(data),
                "data": str(opts.data),
                "seed": opts.seed,
                "bf16": bf16,
                **lineage,
                "world_size": ranks.world,
                "images_seen": step * batch_size * ranks.world,
                "total_steps": step + int(lineage.get("init_steps") or 0),
            },
        )
        if opts.keep_every and step % opts.keep_every == 0:
            kept = out / "snapshots" / f"step_{step:06d}"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(out / "model", kept)

    def samples(step: int) -> None:
        if not ranks.writer:
            return
        with torch.no_grad(), autocast(device, bf16):
            images = ema.model(sample_z, prompt_emb)
        grid = captioned_grid(to_pil(images), prompts, title=f"step {step} (EMA generator)")
        grid.save(out / "samples" / f"step_{step:06d}.png")
        grid.save(out / "samples.png")

    t0, cpu0, seen, step, aborted = time.perf_counter(), time.process_time(), 0, start, False
    last: dict[str, float] = {}
    with open(log_path if ranks.writer else os.devnull, "a", encoding="utf-8") as log:
        for step in range(start + 1, steps + 1):
            if ranks.agree(abort_fn is not None and abort_fn()):
                aborted, step = True, step - 1
                break
            batch = _batch(data, batch_size, cfg, rngs, device, fmt, step)
            last = train_step(
                cfg,
                gen,
                disc,
                opt_g,
                opt_d,
                batch,
                rngs["aug"],
                bf16,
                opts.gp_every,
                grad_sync=sync,
            )
            ema.update(gen, step)
            seen += batch_size * ranks.world
            wall = elapsed + time.perf_counter() - t0
            last["images_per_s"] = seen / max(time.perf_counter() - t0, 1e-9)
            if step % opts.log_every == 0 or step == steps:
                log.write(
                    json.dumps(
                        {
                            "step": step,
                            "wall_s": round(wall, 2),
                            "cpu_s": round(cpu_used(), 2),
                            **{k: round(v, 5) for k, v in last.items()},
                        }
                    )
                    + "\n"
                )
                log.flush()
            if progress_fn is not None:
                progress_fn(step, steps, last)
            if ranks.writer and (step % opts.sample_every == 0 or step == steps):
                samples(step)
                loss_plot(log_path, out / "loss.png")
            if step % opts.checkpoint_every == 0 or step == steps:
                checkpoint(step, wall)
    wall = elapsed + time.perf_counter() - t0
    if ranks.writer and (aborted or step % opts.checkpoint_every):
        checkpoint(step, wall)
        samples(step)
        loss_plot(log_path, out / "loss.png")
    ips = seen / max(time.perf_counter() - t0, 1e-9)
    return TrainResult(step, wall, ips, out / "model", aborted, last, gen)


def _batch(
    data: TrainingSet,
    batch_size: int,
    cfg: GANConfig,
    rngs: dict[str, torch.Generator],
    device: torch.device,
    fmt: torch.memory_format,
    step: int,
) -> Batch:
    images, text, wrong = data.sample(batch_size, rngs["data"], cfg.colour_negative_prob, device)
    z = torch.randn(batch_size, cfg.z_dim, generator=rngs["noise"]).to(device)
    batch = Batch(images.contiguous(memory_format=fmt), text, wrong, z, step)
    if cfg.colour_word_loss > 0:
        words = None if cfg.colour_word_shades else len(PALETTE)
        batch.colour_text, colour = data.sample_colour_words(
            batch_size, rngs["data"], device, words
        )
        batch.colour_targets = _WORD_TARGETS.to(device)[colour]
    return batch


def _warm_start_config(model_dir: Path, requested: GANConfig) -> GANConfig:
    """The architecture comes from the model we start from; training knobs from the request."""
    base = GANConfig.load(model_dir / "config.json")
    arch = (
        "image_size",
        "z_dim",
        "text_dim",
        "text_scale",
        "ngf",
        "ndf",
        "g_mults",
        "d_mults",
        "cond_hidden",
        "d_arch",
        "proj_size",
        "proj_taps",
        "proj_mix",
        "proj_head",
        "proj_uncond",
        "g_arch",
        "exemplar_size",
        "exemplar_map",
    )
    return GANConfig(**{**asdict(requested), **{k: getattr(base, k) for k in arch}})


def _warm_start(
    model_dir: Path, gen: torch.nn.Module, disc: torch.nn.Module, gen_ema: torch.nn.Module
) -> None:
    """Start from an exported model: its EMA generator seeds both G and the EMA copy, its D
    seeds D.  Only Adam's moments are fresh; with beta1 = 0 (our default) there is no momentum to
    lose and the second moments re-settle within a few dozen steps."""
    from shared.gan.checkpoint import load_model

    bundle = load_model(model_dir)
    if bundle.discriminator is None:
        raise FileNotFoundError(f"{model_dir} has no discriminator.safetensors to start D from")
    # The exemplar bank is the new catalog's (already in gen), never the old model's.
    weights = {k: v for k, v in bundle.generator.state_dict().items() if not k.startswith("bank_")}
    for target in (gen, gen_ema):  # copy_ keeps our memory format
        missing, unexpected = target.load_state_dict(weights, strict=False)
        if unexpected or any(not k.startswith("bank_") for k in missing):
            raise ValueError(f"{model_dir}: generator weights do not match: {missing} {unexpected}")
    disc.load_state_dict(bundle.discriminator.state_dict())


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop log lines written after the checkpoint we resume from, so the log stays exact."""
    if not log_path.exists():
        return
    keep = [
        line
        for line in log_path.read_text().splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    log_path.write_text("".join(line + "\n" for line in keep))
