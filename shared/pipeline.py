"""The event walk, top to bottom, as plain functions (no Celery, no database sessions):

    intake (shared.intake) -> claim (Ledger) -> plan (shared.personalize) -> generate
    -> [hand-off to a render worker (shared.handoff)] -> compose + encode + store
    (shared.production) -> score (Context.scorer) -> commit (Ledger)

A Celery task calls `handle_event_task` or `handle_handoff`; so do the CLI and the tests. Every
delivery ends as an `Outcome`: done, handed off, duplicate, rejected, failed or gave up; only
transient errors (storage, database, broker, the event's deadline) propagate, for the caller to
retry. Effects are idempotent: creative ids derive from event id + index, objects are overwritten
with identical bytes, rows are upserted, so a redelivered event yields one set of creatives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

import numpy as np
import sqlalchemy.exc
from PIL import Image

from shared.db.ledger import ClaimRequest, ClaimResult, Ledger, SqlLedger
from shared.db.repo import Claim
from shared.deadline import Deadline, DeadlineExceeded
from shared.encoding import Encoding
from shared.events import CampaignEvent, Rejection
from shared.generation import GeneratorRuntime
from shared.handoff import ImageKey, open_handoff, seal
from shared.intake import Admitted, admit, admit_bundle, describe
from shared.personalize import plan_event
from shared.photos import resolve as photos
from shared.photos.fetch import fetch_product_photos
from shared.plan import EventPlan, ImageRequest
from shared.production import produce_creatives
from shared.records import EventResult, ModelInfo, Verdict
from shared.storage import ObjectStore, StorageError

log = logging.getLogger("adgen.pipeline")
T = TypeVar("T")

# Worth a retry with backoff: the service may be back in a moment, or the device less busy.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    StorageError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    ConnectionError,
    TimeoutError,  # DeadlineExceeded included
)

# Scores a finished event's creatives: one (metrics, servable, reason) per creative; the
# creatives come as the HxWx3 uint8 arrays compose already read out of Pillow (Pixels).
Scorer = Callable[
    [CampaignEvent, EventPlan, dict[ImageKey, Image.Image], Sequence[Image.Image | np.ndarray]],
    Sequence[tuple[dict[str, float], bool, str | None]],
]
# Generates one image per request; a worker swaps in a cross-event micro-batcher.
GenerateFn = Callable[[list[ImageRequest], float], list[Image.Image]]
# Sends a sealed hand-off to the render queue.
HandoffSink = Callable[[dict[str, Any]], None]


class Metrics(Protocol):
    """Where the pipeline reports what it did (Prometheus in workers; nothing in plain runs)."""

    def stage(self, name: str, seconds: float) -> None: ...
    def outcome(self, status: str, creatives: int = 0, reason: str = "") -> None: ...


class NoMetrics:
    def stage(self, name: str, seconds: float) -> None:
        pass

    def outcome(self, status: str, creatives: int = 0, reason: str = "") -> None:
        pass


@dataclass(frozen=True)
class Limits:
    """The policy knobs of the event path (from settings in a worker)."""

    max_attempts: int = 3  # deliveries that may die before an event is failed
    payload_cap: int = 8192  # bytes of a refused payload kept for the record
    encoding: Encoding = Encoding()  # the creatives' format (PNG via fpng by default)
    device_tiles: bool = True  # product tiles scaled on the generator's device (a tensor op)
    deadline_s: float = 300.0  # per event, enforced between stages
    event_hmac_key: str | None = None  # when set, unsigned or tampered events are rejected
    worker_key: str | None = None  # seals and verifies hand-offs between our own workers
    bundle_max_events: int = 64  # most events one bundle delivery may carry


@dataclass
class Context:
    """The adapters one process's event path uses."""

    ledger: Ledger
    store: ObjectStore
    runtime: GeneratorRuntime
    limits: Limits = field(default_factory=Limits)
    scorer: Scorer | None = None
    dead_letter: Callable[[dict[str, Any]], None] = lambda msg: None
    metrics: Metrics = field(default_factory=NoMetrics)
    generate_fn: GenerateFn | None = None  # default: the runtime directly, one event at a time
    handoff: HandoffSink | None = None  # set: images go to the render queue, sealed
    _model: tuple[GeneratorRuntime, ModelInfo] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def local(
        cls,
        db_url: str,
        store: ObjectStore,
        runtime: GeneratorRuntime,
        *,
        worker: str = "local",
        **adapters: Any,
    ) -> Context:
        """A context over a database URL (the CLI, the demo's in-process path, tests)."""
        return cls(
            ledger=SqlLedger(db_url, worker=worker), store=store, runtime=runtime, **adapters
        )

    def generate(self, requests: list[ImageRequest], timeout: float) -> list[Image.Image]:
        if self.generate_fn is not None:
            return self.generate_fn(requests, timeout)
        return self.runtime.generate([r.prompt for r in requests], [r.seed for r in requests])

    def model_info(self) -> ModelInfo:
        """The generator's identity, built once per runtime (its config, re-read from JSON on
        every call, cost a 1-creative event ~0.5 ms when built per event)."""
        rt = self.runtime
        if self._model is None or self._model[0] is not rt:
            self._model = (
                rt,
                ModelInfo(
                    rt.version, rt.model_dir.name, str(rt.model_dir), rt.config_dict(), rt.untrained
                ),
            )
        return self._model[1]


@dataclass
class Outcome:
    status: str  # done | handed_off | duplicate | rejected | failed | gave_up
    event_id: str | None
    creatives: int = 0
    detail: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)


def handle_event_task(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    ctx: Context,
    *,
    retries: int = 0,
    last_try: bool = False,
) -> Outcome:
    """One delivery of the event task, whatever its arguments: the front door. `last_try`: no
    retry follows, so a transient error ends the claimed event as failed instead of raising."""
    admitted = admit(
        args,
        kwargs,
        hmac_key=ctx.limits.event_hmac_key,
        payload_cap=ctx.limits.payload_cap,
        now=time.time(),
    )
    if isinstance(admitted, Rejection):
        return finish(reject(admitted, _size(args, kwargs), ctx), ctx)
    _queue_wait(admitted, retries, ctx)
    return finish(run_event(admitted.event, ctx, retries=retries, last_try=last_try), ctx)


def handle_handoff(
    args: Sequence[Any], kwargs: Mapping[str, Any], ctx: Context, *, last_try: bool = False
) -> Outcome:
    """The render stage's front door: only a sealed hand-off for a live claim is produced."""
    message = args[0] if len(args) == 1 and not kwargs else {"args": list(args), **kwargs}
    handoff = open_handoff(message, ctx.limits.worker_key, ctx.limits.payload_cap)
    if isinstance(handoff, Rejection):
        return finish(reject(handoff, len(describe(message, 1 << 20)), ctx, placeholder=False), ctx)
    event = handoff.event
    problem = ctx.ledger.holds_claim(event, handoff.attempt)
    if problem is not None:
        return finish(
            reject(
                Rejection(
                    reason=f"render hand-off refused: {problem}",
                    event_id=event.event_id,
                    payload=event.canonical_json()[: ctx.limits.payload_cap],
                ),
                0,
                ctx,
                placeholder=False,
            ),
            ctx,
        )
    return finish(
        _guarded(
            event,
            ctx,
            lambda: produce_and_commit(
                event, plan_event(event), handoff.images, ctx, generate_ms=handoff.generate_ms
            ),
            last_try,
        ),
        ctx,
    )


def handle_bundle_task(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    ctx: Context,
    *,
    retries: int = 0,
    last_try: bool = False,
    one_by_one: bool = False,
) -> list[Outcome]:
    """One delivery of the bundle task (several events in one message, so the broker, Celery,
    the claim and the commit are paid once for all of them): the front door for bundles. Each
    event is admitted, claimed and produced as if it had come alone and ends with its own
    outcome; a delivery that is not a bundle is refused and recorded as one rejection. A
    transient error in any event propagates after the others have finished (the retry finds
    those done; its refused members were recorded by the delivery that raised, so a retry
    reports them without a second rejection row or dead letter); `last_try` ends such events
    as failed instead. `one_by_one` (a delivery that
    came back after its worker died): each event is claimed and produced alone, in order, so a
    poison event that kills the process burns no attempt of the events after it, and each of
    its neighbours shares at most one crash with it (the bundled first delivery)."""
    admitted = admit_bundle(
        args,
        kwargs,
        hmac_key=ctx.limits.event_hmac_key,
        payload_cap=ctx.limits.payload_cap,
        max_events=ctx.limits.bundle_max_events,
        now=time.time(),
    )
    if isinstance(admitted, Rejection):
        return [finish(reject(admitted, _size(args, kwargs), ctx, placeholder=False), ctx)]
    # A deliberate retry (`retries` > 0) follows a delivery that went through every member
    # before raising, so that delivery has already recorded each refusal.
    record = retries == 0
    outcomes: list[Outcome | None] = [None] * len(admitted)
    events: dict[str, tuple[int, CampaignEvent]] = {}
    for i, member in enumerate(admitted):
        if isinstance(member, Rejection):
            outcomes[i] = finish(reject(member, len(member.payload), ctx, record=record), ctx)
            continue
        event = member.event
        first = events.get(event.event_id)
        if first is not None:  # claimed once per bundle; a second claim would race the first
            outcomes[i] = finish(_repeated(event, first[1], ctx, record=record), ctx)
            continue
        events[event.event_id] = (i, event)
        _queue_wait(member, retries, ctx)
    groups = [[e] for e in events.values()] if one_by_one else [list(events.values())]
    deferred: list[BaseException] = []
    for group in groups if events else []:
        ran = run_events([e for _, e in group], ctx, retries=retries, last_try=last_try)
        for (i, _), outcome in zip(group, ran.outcomes, strict=True):
            outcomes[i] = finish(outcome, ctx)
        deferred += ran.deferred
    if deferred:
        raise deferred[0]
    return [o for o in outcomes if o is not None]


def _repeated(
    event: CampaignEvent, first: CampaignEvent, ctx: Context, *, record: bool = True
) -> Outcome:
    if event.canonical_json() == first.canonical_json():
        return Outcome("duplicate", event.event_id, detail="repeated within its bundle")
    return reject(
        Rejection(
            reason="event_id repeated within one bundle with a different payload "
            "(the first one stands)",
            event_id=event.event_id,
            payload=event.canonical_json()[: ctx.limits.payload_cap],
        ),
        0,
        ctx,
        placeholder=False,
        record=record,
    )


def _queue_wait(admitted: Admitted, retries: int, ctx: Context) -> None:
    if admitted.published_at is not None and retries == 0:
        ctx.metrics.stage("queue_wait", max(0.0, time.time() - admitted.published_at))


def finish(outcome: Outcome, ctx: Context) -> Outcome:
    detail = outcome.detail[:60] if outcome.status in ("failed", "gave_up") else ""
    ctx.metrics.outcome(outcome.status, outcome.creatives, detail)
    return outcome


def reject(
    rejection: Rejection,
    payload_bytes: int,
    ctx: Context,
    *,
    placeholder: bool = True,
    record: bool = True,
) -> Outcome:
    """A refused message's outcome; `record`: write its rejection row and dead letter (False
    only where an earlier delivery of the same message already did)."""
    if record:
        ctx.ledger.reject(rejection, payload_bytes=payload_bytes, placeholder=placeholder)
        ctx.dead_letter(
            {
                "event_id": rejection.event_id,
                "reason": rejection.reason,
                "payload": rejection.payload,
            }
        )
        log.warning("rejected %s: %s", rejection.event_id or "(no id)", rejection.reason)
    return Outcome("rejected", rejection.event_id, detail=rejection.reason)


def fail(event: CampaignEvent, reason: str, ctx: Context) -> Outcome:
    """End an event as failed (terminal) and route it to the dead-letter queue."""
    ctx.ledger.fail(event.event_id, reason)
    ctx.dead_letter(
        {
            "event_id": event.event_id,
            "reason": reason,
            "payload": event.canonical_json()[: ctx.limits.payload_cap],
        }
    )
    return Outcome("failed", event.event_id, detail=reason)


def run_event(
    event: CampaignEvent, ctx: Context, *, retries: int = 0, last_try: bool = False
) -> Outcome:
    """Claim, then produce. `retries`: deliberate retries so far, which do not count against
    `max_attempts` (that budget is for deliveries that died, e.g. a worker killed mid-event)."""
    claim = ctx.ledger.claim(event, max_attempts=ctx.limits.max_attempts + retries)
    settled = settle_claim(event, claim, ctx)
    if settled is not None:
        return settled
    return _guarded(event, ctx, lambda: produce(event, claim.attempt, ctx), last_try)


def settle_claim(event: CampaignEvent, claim: ClaimResult, ctx: Context) -> Outcome | None:
    """The outcome of a delivery its claim already decides (a conflicting payload, an event
    already done or terminal, attempts used up); None when the claim is live: produce it."""
    if claim.claim is Claim.CONFLICT:
        return reject(
            Rejection(
                reason="duplicate event_id with a different payload (the first payload stands)",
                event_id=event.event_id,
                payload=event.canonical_json()[: ctx.limits.payload_cap],
            ),
            0,
            ctx,
            placeholder=False,
        )
    if claim.claim in (Claim.ALREADY_DONE, Claim.ALREADY_TERMINAL):
        return Outcome("duplicate", event.event_id, detail=claim.claim.value)
    if claim.claim is Claim.GIVE_UP:
        ctx.dead_letter(
            {
                "event_id": event.event_id,
                "reason": claim.last_error,
                "payload": event.canonical_json()[: ctx.limits.payload_cap],
            }
        )
        return Outcome("gave_up", event.event_id, detail=claim.last_error or "")
    return None


@dataclass
class BundleRun:
    outcomes: list[Outcome]  # one per event, in order
    deferred: list[BaseException] = field(default_factory=list)  # transient, to raise after


def run_events(
    events: Sequence[CampaignEvent], ctx: Context, *, retries: int = 0, last_try: bool = False
) -> BundleRun:
    """Several distinct events of one delivery, together: one claim group, one generator
    group, one commit group. Each event keeps its own outcome; a transient error is noted on
    its event and deferred (or, on the last try, ends it as failed)."""
    max_attempts = ctx.limits.max_attempts + retries
    claims = ctx.ledger.claim_each([ClaimRequest(e, max_attempts) for e in events])
    outcomes: list[Outcome | None] = [None] * len(events)
    deferred: list[BaseException] = []
    live: list[tuple[int, int]] = []  # (index, attempt)
    for i, (event, claim) in enumerate(zip(events, claims, strict=True)):
        if isinstance(claim, BaseException):
            # As a lone event's claim error propagates: raised once the others are done.
            deferred.append(claim)
            outcomes[i] = Outcome("retry", event.event_id, detail=f"claim: {claim}")
            continue
        outcomes[i] = settle_claim(event, claim, ctx)
        if outcomes[i] is None:
            live.append((i, claim.attempt))
    if ctx.handoff is not None:  # each event's images go to the render queue on their own
        for i, attempt in live:
            outcomes[i] = _guarded(
                events[i], ctx, partial(produce, events[i], attempt, ctx), last_try, deferred
            )
    elif live:
        made = _make_together([events[i] for i, _ in live], ctx, last_try, deferred)
        for (i, _), m in zip(live, made, strict=True):
            outcomes[i] = m if isinstance(m, Outcome) else None
        ready = [(i, m) for (i, _), m in zip(live, made, strict=True) if isinstance(m, Made)]
        if ready:
            t0 = time.perf_counter()
            problems = ctx.ledger.commit_each([m.result for _, m in ready])
            db_ms = (time.perf_counter() - t0) * 1000 / len(ready)
            for (i, m), problem in zip(ready, problems, strict=True):
                outcomes[i] = (
                    committed(m, db_ms, ctx)
                    if problem is None
                    else _settle_error(events[i], ctx, problem, last_try, deferred)
                )
    return BundleRun([o for o in outcomes if o is not None], deferred)


def _make_together(
    events: Sequence[CampaignEvent],
    ctx: Context,
    last_try: bool,
    deferred: list[BaseException],
) -> list[Made | Outcome]:
    """Plan each event, generate all their images in one group, then compose, store and score
    each; an event that fails on its own ends alone."""
    started = time.perf_counter()
    deadline = Deadline(ctx.limits.deadline_s)
    plans: dict[int, EventPlan] = {}
    shop: dict[int, photos.PhotoMap] = {}
    early: dict[int, Outcome] = {}
    for k, event in enumerate(events):
        try:
            plan = plan_event(event)
            shop[k] = photos.photos_for(plan, fetch_product_photos(event, ctx.store))
            plans[k] = plan
        except Exception as exc:  # noqa: BLE001 - this event's outcome, not its neighbours'
            early[k] = _settle_error(event, ctx, exc, last_try, deferred)
    todo = [k for k in range(len(events)) if k not in early]
    try:
        images = generate_together(
            [events[k] for k in todo],
            [plans[k] for k in todo],
            [shop[k] for k in todo],
            ctx,
            deadline,
        )
    except Exception as exc:  # noqa: BLE001 - the shared stage failed: each event says so
        if isinstance(exc, TimeoutError):
            exc = DeadlineExceeded(f"generation did not finish within the event deadline: {exc}")
        for k in todo:
            early[k] = _settle_error(events[k], ctx, exc, last_try, deferred)
        todo, images = [], []
    generate_ms = (time.perf_counter() - started) * 1000
    if todo:
        ctx.metrics.stage("generate", generate_ms / 1000)
    out: list[Made | Outcome] = []
    made_by_k = dict(zip(todo, images, strict=True))
    for k, event in enumerate(events):
        if k in early:
            out.append(early[k])
            continue
        out.append(
            _guarded(
                event,
                ctx,
                partial(
                    make_result,
                    event,
                    plans[k],
                    made_by_k[k],
                    ctx,
                    generate_ms=generate_ms,
                    started=started,
                    deadline=deadline,
                    from_photos=shop[k],
                ),
                last_try,
                deferred,
            )
        )
    return out


def generate_together(
    events: Sequence[CampaignEvent],
    plans: Sequence[EventPlan],
    shop: Sequence[photos.PhotoMap],
    ctx: Context,
    deadline: Deadline,
) -> list[dict[ImageKey, Image.Image]]:
    """The device stage of several events (`plans` and `shop` photos index-aligned with
    `events`): one generator call for all their requests, one group in a worker's batcher."""
    deadline.check("generate")
    wanted = [
        [r for r in plan.images if r.key not in photo]
        for plan, photo in zip(plans, shop, strict=True)
    ]
    flat = [r for reqs in wanted for r in reqs]
    images = ctx.generate(flat, deadline.remaining()) if flat else []
    out, at = [], 0
    for reqs, photo in zip(wanted, shop, strict=True):
        out.append(photos.merge_images(reqs, images[at : at + len(reqs)], photo))
        at += len(reqs)
    return out


def _guarded(
    event: CampaignEvent,
    ctx: Context,
    work: Callable[[], T],
    last_try: bool,
    deferred: list[BaseException] | None = None,
) -> T | Outcome:
    """Transient errors propagate (noted on the event) for the caller to retry, unless no retry
    follows; anything else ends the claimed event as failed with its reason. `deferred`: a
    transient error is noted and kept there instead of raised (a bundle's other events finish
    first), and the event's outcome says it waits for the retry."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - a bad event must not take the worker down
        return _settle_error(event, ctx, exc, last_try, deferred)


def _settle_error(
    event: CampaignEvent,
    ctx: Context,
    exc: BaseException,
    last_try: bool,
    deferred: list[BaseException] | None,
) -> Outcome:
    """What an error does to its claimed event (`_guarded`): transient ones are noted and
    raised (or deferred), or end it on the last try; any other ends it as failed."""
    if isinstance(exc, TRANSIENT_ERRORS):
        if last_try:
            return fail(event, f"gave up after retries: {type(exc).__name__}: {exc}", ctx)
        ctx.ledger.note_retry(event.event_id, f"{type(exc).__name__}: {exc}")
        if deferred is None:
            raise exc
        deferred.append(exc)
        return Outcome("retry", event.event_id, detail=f"{type(exc).__name__}: {exc}")
    log.error("event %s failed", event.event_id, exc_info=exc)
    return fail(event, f"{type(exc).__name__}: {exc}", ctx)


def generate_images(
    event: CampaignEvent,
    plan: EventPlan,
    ctx: Context,
    deadline: Deadline,
    from_photos: photos.PhotoMap | None = None,
) -> dict[ImageKey, Image.Image]:
    """The device stage: one image per planned request (batched across events by a worker),
    except where the shop's photo stands in (`from_photos`)."""
    return generate_together([event], [plan], [from_photos or {}], ctx, deadline)[0]


def produce(event: CampaignEvent, attempt: int, ctx: Context) -> Outcome:
    """Generate, then hand off (sealed) or compose, store, score and commit here."""
    started = time.perf_counter()
    deadline = Deadline(ctx.limits.deadline_s)
    plan = plan_event(event)
    from_photos = photos.photos_for(plan, fetch_product_photos(event, ctx.store))
    try:
        images = generate_images(event, plan, ctx, deadline, from_photos)
    except TimeoutError as exc:  # the batcher's wait, bounded by the deadline
        raise DeadlineExceeded(
            f"generation did not finish within the event deadline: {exc}"
        ) from exc
    generate_ms = (time.perf_counter() - started) * 1000
    ctx.metrics.stage("generate", generate_ms / 1000)
    if ctx.handoff is not None:
        if not ctx.limits.worker_key:
            raise RuntimeError("hand-offs need a worker key (ADGEN_WORKER_KEY)")
        # Generated images only: the render worker reads the shop's photos from the store.
        ctx.handoff(
            seal(
                event,
                attempt,
                photos.generated_only(images, from_photos),
                generate_ms,
                ctx.limits.worker_key,
            )
        )
        return Outcome("handed_off", event.event_id, timings_ms={"generate": generate_ms})
    return produce_and_commit(
        event,
        plan,
        images,
        ctx,
        generate_ms=generate_ms,
        started=started,
        deadline=deadline,
        from_photos=from_photos,
    )


def produce_and_commit(
    event: CampaignEvent,
    plan: EventPlan,
    images: dict[ImageKey, Image.Image],
    ctx: Context,
    *,
    generate_ms: float,
    started: float | None = None,
    deadline: Deadline | None = None,
    from_photos: photos.PhotoMap | None = None,
) -> Outcome:
    """Compose + encode + store each creative, score them, and commit the event."""
    made = make_result(
        event,
        plan,
        images,
        ctx,
        generate_ms=generate_ms,
        started=started,
        deadline=deadline,
        from_photos=from_photos,
    )
    t0 = time.perf_counter()
    ctx.ledger.commit(made.result)
    return committed(made, (time.perf_counter() - t0) * 1000, ctx)


@dataclass
class Made:
    """An event's creatives composed, stored and scored: what its commit writes."""

    result: EventResult
    totals_ms: dict[str, float]


def make_result(
    event: CampaignEvent,
    plan: EventPlan,
    images: dict[ImageKey, Image.Image],
    ctx: Context,
    *,
    generate_ms: float,
    started: float | None = None,
    deadline: Deadline | None = None,
    from_photos: photos.PhotoMap | None = None,
) -> Made:
    """Compose + encode + store each creative and score them; nothing is committed yet."""
    started = time.perf_counter() if started is None else started
    deadline = deadline or Deadline(ctx.limits.deadline_s)
    if from_photos is None:  # a hand-off carries generated images only
        from_photos = photos.photos_for(plan, fetch_product_photos(event, ctx.store))
    images = photos.with_photos(images, from_photos)
    model = ctx.model_info()
    produced = produce_creatives(
        event,
        plan,
        images,
        ctx.store,
        model,
        encoding=ctx.limits.encoding,
        deadline=deadline,
        tile_device=ctx.runtime.device if ctx.limits.device_tiles else None,
    )
    produced.records = photos.annotate_records(produced.records, plan, from_photos)
    totals = {"generate": generate_ms, **produced.totals_ms}
    for name, ms in produced.totals_ms.items():
        ctx.metrics.stage(name, ms / 1000)
    verdicts: list[Verdict] = []
    if ctx.scorer is not None:
        deadline.check("score")
        t0 = time.perf_counter()
        verdicts = [
            Verdict(m, ok, why)
            for m, ok, why in ctx.scorer(
                event,
                plan,
                photos.generated_only(images, from_photos),
                [p.array() for p in produced.pixels],
            )
        ]
        totals["score"] = (time.perf_counter() - t0) * 1000
        ctx.metrics.stage("score", totals["score"] / 1000)
    result = EventResult(
        event, model, produced.records, verdicts, generate_ms=generate_ms, started=started
    )
    return Made(result, totals)


def committed(made: Made, db_ms: float, ctx: Context) -> Outcome:
    """A made event's outcome once its commit went through."""
    result = made.result
    totals = {**made.totals_ms, "db": db_ms}
    ctx.metrics.stage("db", db_ms / 1000)
    log.info(
        "event %s done: %d creatives in %.0f ms",
        result.event.event_id,
        len(result.creatives),
        (time.perf_counter() - result.started) * 1000,
    )
    return Outcome(
        "done", result.event.event_id, creatives=len(result.creatives), timings_ms=totals
    )


def _size(args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    body = args[0] if args else kwargs.get("raw")
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8", "surrogatepass"))
    return len(describe(body, 1 << 20))
