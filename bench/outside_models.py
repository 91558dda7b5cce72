"""Worker CPU per creative OUTSIDE the model forward passes, per stage, before and after.

    python -m bench.outside_models [--single 80] [--standard 16] [--bundle 16] [--plot PATH]
                                   [--json PATH]

Runs the worker's own event walk (`handle_event_task`: intake, claim, plan, compose, encode,
S3 upload, per-event scoring, commit) in this process against a real Postgres and SeaweedFS S3
server, over two streams: 1-creative events (300x250, the four ad types) and standard events
(2 variants x 5 sizes); the 1-creative stream also as bundles (--bundle events to a message,
`handle_bundle_task`: claimed and committed per bundle), with today's defaults. The models run
first, batched (generator at --batch, scoring networks likewise), timed on their own; the walk
then replays their outputs, so what it costs is the CPU that no device removes. Commits are
grouped like the worker's group commit (--db-group), and claims like the worker's claim batcher
(--claim-group: the events a worker runs at once claim together; 1 = each alone).

CPU is `time.thread_time()` of this (single) thread, so other processes on a busy host do not
count; the servers' CPU is not included (bench/cpu.py measures that in the full benchmark).
Not included either: Celery (consume, ack, task events), the worker's thread pool and its
cross-event batcher threads -- this is the event path itself.

Each stream runs in three configurations on the same events (see `configs`): "before" (Pillow
PNG at zlib level 3, no parts cache, Pillow tiles), "session-4" (fpng, parts cache) and "after"
(the defaults). The first half of each stream warms the caches; the second half is measured.

Pixel work that a GPU host does on the generator's device (the product tiles,
shared/compose/upscale.py) is timed on its own as a device stage -- here it runs on this CPU --
and is reported beside the models, not in "outside the models"; what it leaves on the host
(handing tiles to Pillow) is the "tile hand-over (host)" stage, which is counted. So are the
per-image scores that scoring's batched `forward` computes after the networks, as tensor ops on
the scorer's device (reference fidelity, alignment, ...): timed apart from the networks, in
batches of --batch, as "per-image scores, batched (device stage)".
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

import shared.eval.scorer as scorer_module
import shared.pipeline as pipeline
from bench.harness import real_stack, run_id, single_creative_events
from bench.plot_costs import plot_costs
from shared.compose.parts_cache import CacheStats, PartsCache
from shared.config import Settings
from shared.db.group_commit import commit_events
from shared.db.ledger import ClaimRequest, ClaimResult, SqlLedger
from shared.encoding import Encoding
from shared.eval.model import pil_to_uint8
from shared.eval.scorer import CreativeStats, GateThresholds, load_scorer
from shared.events import CampaignEvent
from shared.generation import GeneratorRuntime
from shared.personalize import plan_event
from shared.pipeline import Context, Limits, handle_bundle_task, handle_event_task
from shared.production import Produced, produce_creatives
from shared.records import EventResult
from shared.samples import sample_events
from shared.storage import open_store

STANDARD_SIZES = ["300x250", "728x90", "160x600", "320x50", "1080x1080"]
STAGES = (
    "intake + plan + glue",
    "claim",
    "tile hand-over (host)",
    "compose",
    "encode",
    "S3 client",
    "statistics hand-over (host)",
    "scoring per event",
    "DB commit (grouped)",
)
# Pixel work that runs on the generator's device on a GPU host (here: on this CPU), reported
# beside the model forward passes, never inside "outside the models".
DEVICE_STAGES = (
    "tiles (device stage)",
    "creative statistics (device stage)",
    "per-image scores, batched (device stage)",
)
HOST_CORES = 16
TARGET = 8000


@dataclass
class Config:
    name: str
    encoding: Encoding
    parts: PartsCache
    device_tiles: bool = True


@dataclass
class Cpu:
    ms: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.ms[stage] = self.ms.get(stage, 0.0) + seconds * 1000


def standard_events(prefix: str, n: int) -> list[CampaignEvent]:
    base = sample_events(prefix, count=2, sizes=STANDARD_SIZES)
    return [
        base[i % len(base)].model_copy(
            update={
                "event_id": f"{prefix}-{i:05d}",
                "creative": base[i % len(base)].creative.model_copy(update={"seed": i}),
            }
        )
        for i in range(n)
    ]


def run_models(
    rt: GeneratorRuntime, scorer: Any, events: list[CampaignEvent], batch: int
) -> tuple[dict[str, list[Image.Image]], dict[str, list[Any]], dict[str, float]]:
    """Every event's generator images and scoring-network outputs, batched across events."""
    plans = {e.event_id: plan_event(e) for e in events}
    reqs = [(e.event_id, r) for e in events for r in plans[e.event_id].images]
    images: list[Image.Image] = []
    t0, c0 = time.perf_counter(), time.thread_time()
    for i in range(0, len(reqs), batch):
        chunk = [r for _, r in reqs[i : i + batch]]
        images += rt.generate([r.prompt for r in chunk], [r.seed for r in chunk])
    gen_wall, gen_cpu = time.perf_counter() - t0, time.thread_time() - c0
    outs: list[Any] = []
    score_cpu = per_image_cpu = 0.0
    for i in range(0, len(reqs), batch):
        pairs = list(zip(images[i : i + batch], reqs[i : i + batch], strict=True))
        raw = pil_to_uint8([im for im, _ in pairs], scorer.evaluator.cfg.image_size)
        c1 = time.thread_time()
        nets = scorer.networks(raw, [r.prompt for _, (_, r) in pairs])
        c2 = time.thread_time()
        outs += scorer.image_scores(raw, nets)  # the rest of `forward`, batched like it
        c3 = time.thread_time()
        score_cpu += c2 - c1
        per_image_cpu += c3 - c2
    by_event_img: dict[str, list[Image.Image]] = {}
    by_event_out: dict[str, list[Any]] = {}
    for (eid, _), im, out in zip(reqs, images, outs, strict=True):
        by_event_img.setdefault(eid, []).append(im)
        by_event_out.setdefault(eid, []).append(out)
    n = len(reqs)
    return (
        by_event_img,
        by_event_out,
        {
            "images": n,
            "generator_images_per_s": n / gen_wall,
            "generator_cpu_ms_per_image": gen_cpu * 1000 / n,
            "scoring_networks_cpu_ms_per_image": score_cpu * 1000 / n,
            "per_image_scores_cpu_ms_total": per_image_cpu * 1000,
        },
    )


class TimedLedger(SqlLedger):
    """The worker's ledger; claims timed, commits kept for grouped writing afterwards."""

    def __init__(self, db_url: str, cpu: Cpu, kept: list[EventResult]) -> None:
        super().__init__(db_url, worker="bench", commit_fn=self._keep)
        self.cpu, self.kept = cpu, kept
        self.ahead: dict[str, ClaimResult] = {}  # claimed with their group, not yet walked

    def claim_group(self, events: Sequence[CampaignEvent], max_attempts: int) -> None:
        """Claim events that arrive together in one call, as the worker's claim batcher does
        for concurrently running events; each event's walk then takes its own result."""
        c0 = time.thread_time()
        results = self.claim_many([ClaimRequest(e, max_attempts) for e in events])
        for e, r in zip(events, results, strict=True):
            assert isinstance(r, ClaimResult), r
            self.ahead[e.event_id] = r
        self.cpu.add("claim", time.thread_time() - c0)

    def _keep(self, results: Sequence[EventResult]) -> list[BaseException | None]:
        self.kept.extend(results)
        return [None] * len(results)

    def claim_each(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult | BaseException]:
        """A bundle's claims: one group, timed as the claim stage."""
        c0 = time.thread_time()
        try:
            return super().claim_each(requests)
        finally:
            self.cpu.add("claim", time.thread_time() - c0)

    def claim(self, event: CampaignEvent, *, max_attempts: int) -> ClaimResult:
        c0 = time.thread_time()
        try:
            if event.event_id in self.ahead:
                return self.ahead.pop(event.event_id)
            (result,) = self.claim_many([ClaimRequest(event, max_attempts)])
            assert isinstance(result, ClaimResult), result
            return result
        finally:
            self.cpu.add("claim", time.thread_time() - c0)


def walk(
    events: list[CampaignEvent],
    cfg: Config,
    settings: Settings,
    rt: GeneratorRuntime,
    scorer: Any,
    images: dict[str, list[Image.Image]],
    outs: dict[str, list[Any]],
    db_group: int,
    store: Any,
    claim_group: int = 1,
    bundle: int = 1,
) -> Cpu:
    """The event walk for each event, models replayed; CPU per stage of the whole stream.
    Claims go in groups of `claim_group` (the events a worker runs at once), commits in groups
    of `db_group`. `bundle` > 1: events arrive `bundle` to a message (`handle_bundle_task`),
    which claims them as one group itself."""
    cpu = Cpu()
    kept: list[EventResult] = []
    ledger = TimedLedger(settings.resolved_database_url, cpu, kept)
    current: dict[str, str] = {}
    bundled: list[CampaignEvent] = []

    def generate(reqs: list[Any], timeout: float) -> list[Image.Image]:
        if bundled:  # a bundle's requests: its events' images, in order
            return [im for e in bundled for im in images[e.event_id]]
        return images[current["id"]]

    def forward(items: list[Any]) -> list[Any]:
        return outs[current["id"]]

    scorer.forward_fn = forward

    def scorer_for_event(event: CampaignEvent, *args: Any) -> Any:
        current["id"] = event.event_id  # in a bundle, the event being scored
        return scorer(event, *args)

    timed_scorer = _timed(scorer_for_event, cpu, "scoring per event")

    def stats(
        creatives: Sequence[Image.Image | np.ndarray], device: torch.device | str
    ) -> CreativeStats:
        out = original_stats(creatives, device)
        cpu.add("creative statistics (device stage)", out.device_ms / 1000)
        cpu.add("statistics hand-over (host)", out.host_ms / 1000)
        # inside the scorer's call: not scoring per event as well
        cpu.add("scoring per event", -(out.device_ms + out.host_ms) / 1000)
        return out

    def produce(*args: Any, **kwargs: Any) -> Produced:
        out = produce_creatives(*args, **{**kwargs, "parts": cfg.parts})
        for stage, name in (
            ("compose", "compose"),
            ("encode", "encode"),
            ("upload", "S3 client"),
            ("tiles", "tiles (device stage)"),
            ("tiles_host", "tile hand-over (host)"),
        ):
            cpu.add(name, out.cpu_ms.get(stage, 0.0) / 1000)
        return out

    ctx = Context(
        ledger=ledger,
        store=store,
        runtime=rt,
        scorer=timed_scorer,
        limits=Limits(encoding=cfg.encoding, device_tiles=cfg.device_tiles),
        generate_fn=generate,
    )
    original, pipeline.produce_creatives = pipeline.produce_creatives, produce  # type: ignore[assignment]
    original_stats, scorer_module.creative_stats = scorer_module.creative_stats, stats
    try:
        for i in range(0, len(events), bundle) if bundle > 1 else []:
            bundled[:] = events[i : i + bundle]
            c0 = time.thread_time()
            outs_ = handle_bundle_task([[{"raw": e.canonical_json()} for e in bundled]], {}, ctx)
            cpu.add("walk", time.thread_time() - c0)
            assert [o.status for o in outs_] == ["done"] * len(bundled), outs_
        for i, ev in enumerate(events if bundle <= 1 else []):
            if claim_group > 1 and i % claim_group == 0:
                c0 = time.thread_time()  # part of the walk (its "claim" stage is subtracted)
                ledger.claim_group(events[i : i + claim_group], ctx.limits.max_attempts)
                cpu.add("walk", time.thread_time() - c0)
            current["id"] = ev.event_id
            c0 = time.thread_time()
            out = handle_event_task([ev.canonical_json()], {}, ctx)
            cpu.add("walk", time.thread_time() - c0)
            assert out.status == "done", out
    finally:
        pipeline.produce_creatives = original
        scorer_module.creative_stats = original_stats
    c0 = time.thread_time()
    for i in range(0, len(kept), db_group):
        assert not any(commit_events(ledger.db_url, kept[i : i + db_group]))
    cpu.add("DB commit (grouped)", time.thread_time() - c0)
    inner = sum(cpu.ms.get(s, 0.0) for s in (*STAGES[1:-1], *DEVICE_STAGES))
    cpu.ms["intake + plan + glue"] = cpu.ms.pop("walk") - inner
    return cpu


def _timed(fn: Callable[..., Any], cpu: Cpu, stage: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        c0 = time.thread_time()
        try:
            return fn(*args)
        finally:
            cpu.add(stage, time.thread_time() - c0)

    return call


def measure(
    stream: str,
    events: list[CampaignEvent],
    configs: list[Config],
    settings: Settings,
    rt: GeneratorRuntime,
    scorer: Any,
    batch: int,
    db_group: int,
    store: Any,
    claim_group: int = 1,
    bundle: int = 1,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for cfg in configs:
        # Fresh ids per configuration: every claim is a first delivery, as in production.
        evs = [e.model_copy(update={"event_id": f"{e.event_id}-{cfg.name}"}) for e in events]
        imgs, outs, model = run_models(rt, scorer, evs, batch)
        half = len(evs) // 2
        args = (cfg, settings, rt, scorer, imgs, outs, db_group, store, claim_group, bundle)
        walk(evs[:half], *args)  # warm
        cfg.parts.stats = CacheStats()  # count the measured half only
        cpu = walk(evs[half:], *args)
        n = sum(e.creative_count for e in evs[half:])
        per = {s: cpu.ms.get(s, 0.0) / n for s in STAGES}
        device = {s: cpu.ms.get(s, 0.0) / n for s in DEVICE_STAGES}
        # Computed with the networks in batches of --batch over the whole stream (scoring's
        # `forward`, which a worker batches across events): per creative of the stream.
        device["per-image scores, batched (device stage)"] = model.pop(
            "per_image_scores_cpu_ms_total"
        ) / sum(e.creative_count for e in evs)
        total = sum(per.values())
        results[cfg.name] = {
            "stages_ms_per_creative": per,
            "device_stages_cpu_here_ms_per_creative": device,
            "total_ms_per_creative": total,
            "implied_creatives_per_s_16_cores": HOST_CORES * 1000 / total,
            "creatives_measured": n,
            "parts_cache": dict(vars(cfg.parts.stats)),
            **model,
        }
        print(
            f"{stream:11s} {cfg.name:6s} {total:6.2f} ms/creative outside the models "
            f"-> {HOST_CORES * 1000 / total:7.0f} creatives/s on {HOST_CORES} cores "
            f"(target {TARGET}); generator {model['generator_images_per_s']:.1f} images/s; "
            + ", ".join(f"{s} {v:.2f}" for s, v in per.items())
            + "; device stages (on this CPU): "
            + ", ".join(f"{s} {v:.2f}" for s, v in device.items()),
            flush=True,
        )
    return results


def configs() -> list[Config]:
    """Fresh caches for each run: "before" is issue 16's starting point (Pillow PNG at zlib 3,
    no parts cache, Pillow tiles), "session 4" the previous session's end (fpng, parts cache),
    "after" the defaults now."""
    return [
        Config("before", Encoding(png_encoder="zlib"), PartsCache(max_bytes=0), False),
        Config("session-4", Encoding(), PartsCache(), False),
        Config("after", Encoding(), PartsCache(), True),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--single", type=int, default=80, help="1-creative events (half warm-up)")
    ap.add_argument("--standard", type=int, default=16, help="standard events (half warm-up)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--db-group", type=int, default=16)
    ap.add_argument(
        "--claim-group",
        type=int,
        default=8,
        help="events claimed together (a worker's claim batcher groups at most its thread "
        "count, ADGEN_WORKER_CONCURRENCY, default 8); 1 = each event alone",
    )
    ap.add_argument(
        "--bundle",
        type=int,
        default=16,
        help="also walk the 1-creative stream N events to a message (publish_bundle; the "
        "defaults only), claimed and committed per bundle; 0 = skip",
    )
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with real_stack(args.model) as stack:
        settings = stack.settings()
        logging.basicConfig(level=logging.INFO, filename=str(stack.tmp / "bench.log"))
        rt = GeneratorRuntime.load(settings.resolved_model_dir, "cpu", max_batch=args.batch)
        rt.warmup()
        scorer = load_scorer(
            settings.resolved_evaluator_dir, rt, "cpu", GateThresholds.from_settings(settings)
        )
        store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
        store.ensure_bucket()
        rid = run_id()
        report = {
            "1-creative": measure(
                "1-creative",
                single_creative_events(f"s{rid}", args.single),
                configs(),
                settings,
                rt,
                scorer,
                args.batch,
                args.db_group,
                store,
                args.claim_group,
            ),
            **(
                {
                    f"1-creative, bundles of {args.bundle}": measure(
                        f"bundled x{args.bundle}",
                        single_creative_events(f"u{rid}", args.single),
                        configs()[-1:],
                        settings,
                        rt,
                        scorer,
                        args.batch,
                        args.bundle,
                        store,
                        1,
                        args.bundle,
                    )
                }
                if args.bundle > 1
                else {}
            ),
            "standard": measure(
                "standard",
                standard_events(f"t{rid}", args.standard),
                configs(),
                settings,
                rt,
                scorer,
                args.batch,
                args.db_group,
                store,
                args.claim_group,
            ),
        }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.plot:
        bars: dict[str, dict[str, float]] = {}
        for stream, by_cfg in report.items():
            for cfg, r in by_cfg.items():
                bars[f"{stream}, {cfg}"] = r["stages_ms_per_creative"]
                device = r["device_stages_cpu_here_ms_per_creative"]
                if any(device.values()):
                    bars[f"{stream}, {cfg}: device stage (not host CPU on a GPU host)"] = device
        plot_costs(
            bars,
            args.plot,
            "Worker CPU per creative outside the model forward passes "
            f"(event path, this process); target 2 ms = {TARGET}/s on {HOST_CORES} cores",
            order=[*STAGES, *DEVICE_STAGES],
            xlabel="CPU ms per creative (worker thread)",
        )
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
