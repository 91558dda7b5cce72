"""The worker path as plain functions: raw message -> creatives in storage and rows in the DB.

Nothing here knows about Celery. A task calls `handle_message`; so do the CLI and the tests.
Effects are idempotent: creative ids derive from event id + index, objects are overwritten with
identical bytes, rows are upserted. A redelivered event therefore yields one set of creatives.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import sqlalchemy.exc
from PIL import Image

from shared.compose import compose_creative
from shared.db import repo
from shared.db.engine import session_scope
from shared.db.group_commit import EventWrite, ModelVersionRow, commit_events
from shared.events import CampaignEvent, Rejection, cap_payload, parse_event
from shared.generation import GeneratorRuntime
from shared.ids import object_key
from shared.personalize import EventPlan, ImageRequest, plan_event
from shared.placements import get_placement
from shared.signing import verify
from shared.storage import ObjectStore, StorageError

log = logging.getLogger("adgen.pipeline")

# Worth a retry with backoff: the service may be back in a moment.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StorageError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    ConnectionError,
    TimeoutError,
)


class Scorer(Protocol):
    """Scores a finished event's creatives (the evaluation issue plugs in here)."""

    def __call__(
        self, event: CampaignEvent, plan: EventPlan, images: dict[tuple[int, int], Image.Image],
        creatives: list[Image.Image],
    ) -> list[tuple[dict[str, float], bool, str | None]]: ...


class Metrics(Protocol):
    """Where the pipeline reports what it did (Prometheus in workers; nothing in plain runs)."""

    def stage(self, name: str, seconds: float) -> None: ...
    def outcome(self, status: str, creatives: int = 0, reason: str = "") -> None: ...


class NoMetrics:
    def stage(self, name: str, seconds: float) -> None:
        pass

    def outcome(self, status: str, creatives: int = 0, reason: str = "") -> None:
        pass


# Hands (event, generated images, generate_ms) to the CPU render stage.
RenderSink = Callable[[CampaignEvent, dict[tuple[int, int], Image.Image], float], None]
# Generates one image per request; a worker swaps in a cross-event micro-batcher.
GenerateFn = Callable[[list[ImageRequest]], list[Image.Image]]
# Writes finished events, one outcome each (None or the exception); `commit_events` by default,
# a worker swaps in its group-commit batcher (many events, one transaction).
CommitFn = Callable[[list[EventWrite]], list[BaseException | None]]


@dataclass
class Context:
    db_url: str
    store: ObjectStore
    runtime_factory: Callable[[], GeneratorRuntime]
    worker: str = "local"
    max_attempts: int = 3
    rejected_payload_bytes: int = 8192
    dead_letter: Callable[[dict[str, Any]], None] = lambda msg: None
    scorer: Scorer | None = None
    hmac_key: str | None = None  # when set, unsigned or tampered events are rejected
    png_level: int = 3
    before_generate: Callable[[CampaignEvent], None] | None = None  # fault injection in tests
    # When set, generated images go to the CPU render queue instead of being rendered here.
    render_sink: RenderSink | None = None
    metrics: Metrics = field(default_factory=NoMetrics)
    generate_fn: GenerateFn | None = None
    commit_fn: CommitFn | None = None
    _runtime: GeneratorRuntime | None = field(default=None, repr=False)
    _known_versions: set[str] = field(default_factory=set, repr=False)

    @property
    def runtime(self) -> GeneratorRuntime:
        if self._runtime is None:
            self._runtime = self.runtime_factory()
        return self._runtime

    def generate(self, requests: list[ImageRequest]) -> list[Image.Image]:
        if self.generate_fn is not None:
            return self.generate_fn(requests)
        return self.runtime.generate([r.prompt for r in requests], [r.seed for r in requests])

    def commit(self, write: EventWrite) -> None:
        commit = self.commit_fn or (lambda writes: commit_events(self.db_url, writes))
        (problem,) = commit([write])
        if problem is not None:
            raise problem


@dataclass
class Outcome:
    status: str  # done | handed_off | duplicate | rejected | failed | gave_up
    event_id: str | None
    creatives: int = 0
    detail: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)


def _raw_size(raw: str | bytes | dict[str, Any]) -> int:
    if isinstance(raw, bytes):
        return len(raw)
    if isinstance(raw, str):
        return len(raw.encode("utf-8", "surrogatepass"))
    return len(str(raw))


def reject(raw: str | bytes | dict[str, Any], rejection: Rejection, ctx: Context) -> Outcome:
    with session_scope(ctx.db_url) as s:
        repo.record_rejection(session=s, rejection=rejection, worker=ctx.worker,
                              payload_bytes=_raw_size(raw))
    ctx.dead_letter({"event_id": rejection.event_id, "reason": rejection.reason,
                     "payload": rejection.payload, "worker": ctx.worker})
    log.warning("rejected event %s: %s", rejection.event_id or "(no id)", rejection.reason)
    return Outcome("rejected", rejection.event_id, detail=rejection.reason)


def handle_message(
    raw: str | bytes | dict[str, Any], ctx: Context, *, excused_attempts: int = 0,
    signature: str | None = None,
) -> Outcome:
    """See `_handle`; also checks the signature (when required) and reports the outcome."""
    try:
        reason = _signature_problem(raw, signature, ctx)
        if reason is not None:
            parsed = parse_event(raw)
            out = reject(raw, Rejection(
                reason=reason, payload=cap_payload(str(raw), ctx.rejected_payload_bytes),
                event_id=None if isinstance(parsed, Rejection) else parsed.event_id), ctx)
        else:
            out = _handle(raw, ctx, excused_attempts=excused_attempts)
    except TRANSIENT_ERRORS as exc:
        ctx.metrics.outcome("retry", reason=type(exc).__name__)
        raise
    ctx.metrics.outcome(out.status, out.creatives, out.detail[:60] if out.status in (
        "failed", "gave_up") else "")
    return out


def _signature_problem(raw: str | bytes | dict[str, Any], signature: str | None,
                       ctx: Context) -> str | None:
    if not ctx.hmac_key:
        return None
    if not isinstance(raw, str):
        return "signed events must be sent as JSON text"
    return verify(raw, signature, ctx.hmac_key)


def _handle(
    raw: str | bytes | dict[str, Any], ctx: Context, *, excused_attempts: int = 0
) -> Outcome:
    """Validate, claim, process. Transient errors propagate (the caller retries with backoff);
    anything else ends the event as failed with its reason, routed to the dead-letter queue.

    `excused_attempts`: deliberate retries so far, which do not count against `max_attempts`
    (that budget is for deliveries that died, e.g. a worker killed mid-event).
    """
    parsed = parse_event(raw)
    if isinstance(parsed, Rejection):
        return reject(raw, parsed, ctx)
    event = parsed
    with session_scope(ctx.db_url) as s:
        claim, row = repo.claim_event(session=s, event=event, worker=ctx.worker,
                                      max_attempts=ctx.max_attempts + excused_attempts)
        last_error = row.last_error
    if claim is repo.Claim.CONFLICT:
        return reject(raw, Rejection(
            reason="duplicate event_id with a different payload (the first payload stands)",
            event_id=event.event_id, payload=event.canonical_json()[: ctx.rejected_payload_bytes],
        ), ctx)
    if claim in (repo.Claim.ALREADY_DONE, repo.Claim.ALREADY_TERMINAL):
        return Outcome("duplicate", event.event_id, detail=claim.value)
    if claim is repo.Claim.GIVE_UP:
        ctx.dead_letter({"event_id": event.event_id, "reason": last_error, "worker": ctx.worker,
                         "payload": event.canonical_json()[: ctx.rejected_payload_bytes]})
        return Outcome("gave_up", event.event_id, detail=last_error or "")
    try:
        return process_event(event, ctx)
    except TRANSIENT_ERRORS as exc:
        with session_scope(ctx.db_url) as s:
            repo.note_error(session=s, event_id=event.event_id, error=f"transient: {exc}",
                            final=False)
        raise
    except Exception as exc:  # noqa: BLE001 - a bad event must not take the worker down
        log.exception("event %s failed", event.event_id)
        fail(event, f"{type(exc).__name__}: {exc}", ctx)
        return Outcome("failed", event.event_id, detail=str(exc))


def fail(event: CampaignEvent, reason: str, ctx: Context) -> None:
    """End an event as failed (terminal) and route it to the dead-letter queue."""
    with session_scope(ctx.db_url) as s:
        repo.note_error(session=s, event_id=event.event_id, error=reason, final=True)
    ctx.dead_letter({"event_id": event.event_id, "reason": reason, "worker": ctx.worker,
                     "payload": event.canonical_json()[: ctx.rejected_payload_bytes]})


def generate_images(plan: EventPlan, ctx: Context) -> dict[tuple[int, int], Image.Image]:
    imgs = ctx.generate(list(plan.images))
    return {r.key: img for r, img in zip(plan.images, imgs, strict=True)}


def encode_png(img: Image.Image, level: int = 3) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def process_event(event: CampaignEvent, ctx: Context) -> Outcome:
    """Generate (the device stage), then render and store (the CPU stage)."""
    t_start = time.perf_counter()
    plan = plan_event(event)
    if ctx.before_generate is not None:
        ctx.before_generate(event)
    t0 = time.perf_counter()
    images = generate_images(plan, ctx)
    generate_ms = (time.perf_counter() - t0) * 1000
    ctx.metrics.stage("generate", generate_ms / 1000)
    if ctx.render_sink is not None:
        ctx.render_sink(event, images, generate_ms)
        return Outcome("handed_off", event.event_id, timings_ms={"generate": generate_ms})
    return render_and_store(event, plan, images, ctx, generate_ms=generate_ms, t_start=t_start)


def render_and_store(
    event: CampaignEvent, plan: EventPlan, images: dict[tuple[int, int], Image.Image],
    ctx: Context, *, generate_ms: float = 0.0, t_start: float | None = None,
) -> Outcome:
    """Compose each creative, encode PNG, upload, score, and write all rows in one transaction."""
    t_start = time.perf_counter() if t_start is None else t_start
    runtime = ctx.runtime
    prompts = {r.key: r.prompt for r in plan.images}
    seeds = {r.key: r.seed for r in plan.images}
    composed: list[Image.Image] = []
    rows: list[dict[str, Any]] = []
    totals = {"generate": generate_ms, "compose": 0.0, "encode": 0.0, "upload": 0.0}
    for cp in plan.creatives:
        t0 = time.perf_counter()
        creative = compose_creative(cp, [images[k] for k in cp.image_keys], event)
        t1 = time.perf_counter()
        png = encode_png(creative, ctx.png_level)
        t2 = time.perf_counter()
        key = object_key(event.campaign.id, event.event_id, cp.creative_id)
        ctx.store.put(key, png, "image/png")
        t3 = time.perf_counter()
        composed.append(creative)
        placement = get_placement(cp.size)
        timings = {"compose": (t1 - t0) * 1000, "encode": (t2 - t1) * 1000,
                   "upload": (t3 - t2) * 1000}
        for k, v in timings.items():
            totals[k] += v
        rows.append({
            "creative_id": cp.creative_id, "event_id": event.event_id,
            "campaign_id": event.campaign.id, "index": cp.index, "ad_type": event.type,
            "size": cp.size, "width": placement.width, "height": placement.height,
            "variant": cp.variant_name, "style": cp.style,
            "prompt": " | ".join(prompts[k] for k in cp.image_keys),
            "seed": seeds[cp.image_keys[0]], "object_key": key, "content_type": "image/png",
            "bytes": len(png), "model_version_id": runtime.version,
            "generate_ms": generate_ms / max(1, len(plan.creatives)),
            "compose_ms": timings["compose"], "encode_ms": timings["encode"],
            "upload_ms": timings["upload"], "servable": True, "servable_reason": None,
            "details": {"plan": asdict(cp), "prompts": [prompts[k] for k in cp.image_keys],
                        "seeds": [seeds[k] for k in cp.image_keys],
                        "untrained_model": runtime.untrained},
        })
    for name in ("compose", "encode", "upload"):
        ctx.metrics.stage(name, totals[name] / 1000)

    scores: list[tuple[dict[str, float], bool, str | None]] = []
    if ctx.scorer is not None:
        t0 = time.perf_counter()
        scores = ctx.scorer(event, plan, images, composed)
        totals["score"] = (time.perf_counter() - t0) * 1000
        ctx.metrics.stage("score", totals["score"] / 1000)
        for row, (_, servable, reason) in zip(rows, scores, strict=True):
            row["servable"], row["servable_reason"] = servable, reason

    t0 = time.perf_counter()
    model = None if runtime.version in ctx._known_versions else ModelVersionRow(
        runtime.version, runtime.model_dir.name, str(runtime.model_dir), runtime.config_dict())
    ctx.commit(EventWrite(
        event.event_id, rows,
        {row["creative_id"]: m for row, (m, _, _) in zip(rows, scores, strict=False)},
        started=t_start, model=model))
    ctx._known_versions.add(runtime.version)
    totals["db"] = (time.perf_counter() - t0) * 1000
    ctx.metrics.stage("db", totals["db"] / 1000)
    log.info("event %s done: %d creatives in %.0f ms", event.event_id, len(rows),
             (time.perf_counter() - t_start) * 1000)
    return Outcome("done", event.event_id, creatives=len(rows), timings_ms=totals)
