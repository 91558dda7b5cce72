"""Prometheus metrics for one worker process (scraped at ADGEN_METRICS_PORT + device offset)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import start_http_server as _start_http_server

log = logging.getLogger("adgen.metrics")

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class WorkerMetrics:
    """Implements shared.pipeline.Metrics and the batcher callbacks."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        r = registry
        self.events = Counter(
            "adgen_events_total", "Events handled, by outcome", ["status"], registry=r
        )
        self.creatives = Counter("adgen_creatives_total", "Creatives written", registry=r)
        self.failures = Counter(
            "adgen_failures_total", "Failed/retried events, by reason", ["reason"], registry=r
        )
        self.rejected = Counter(
            "adgen_rejected_events_total", "Events rejected as invalid", registry=r
        )
        self.stage_seconds = Histogram(
            "adgen_stage_seconds",
            "Time per pipeline stage",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "adgen_batch_size",
            "Images per generator forward pass",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.group_size = Histogram(
            "adgen_group_size",
            "Events or images per cross-event "
            "pass, by stage (claim: deliveries per transaction, score: images, "
            "db: events per transaction)",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.oom_splits = Counter(
            "adgen_oom_splits_total", "Batches halved after device OOM", registry=r
        )
        self.device_memory = Gauge(
            "adgen_device_memory_bytes", "Device memory allocated", ["kind"], registry=r
        )
        self.in_flight = Gauge("adgen_events_in_flight", "Events being processed", registry=r)

    # shared.pipeline.Metrics
    def stage(self, name: str, seconds: float) -> None:
        self.stage_seconds.labels(name).observe(max(0.0, seconds))

    def outcome(self, status: str, creatives: int = 0, reason: str = "") -> None:
        self.events.labels(status).inc()
        if creatives:
            self.creatives.inc(creatives)
        if status == "rejected":
            self.rejected.inc()
        if status in ("failed", "gave_up", "retry"):
            self.failures.labels(reason or status).inc()

    # batcher callbacks
    def batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.update_device_memory()

    def group(self, stage: str) -> Callable[[int, float], None]:
        """A batcher callback recording group sizes for one stage (claim, score, db)."""

        def observe(size: int, seconds: float) -> None:
            self.group_size.labels(stage).observe(size)

        return observe

    def oom(self, size: int) -> None:
        self.oom_splits.inc()

    def update_device_memory(self) -> None:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            self.device_memory.labels("allocated").set(torch.cuda.memory_allocated())
            self.device_memory.labels("reserved").set(torch.cuda.memory_reserved())


_metrics: WorkerMetrics | None = None


def get_metrics() -> WorkerMetrics:
    global _metrics
    if _metrics is None:
        _metrics = WorkerMetrics()
    return _metrics


def serve(port: int) -> None:
    if port <= 0:
        return
    try:
        _start_http_server(port, addr="0.0.0.0")
        log.info("Prometheus metrics on :%d/metrics", port)
    except OSError as exc:  # a second worker on the same port must not die for it
        log.error("metrics port %d unavailable: %s", port, exc)
