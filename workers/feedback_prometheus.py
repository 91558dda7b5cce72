"""Prometheus counters of the feedback worker (served on ADGEN_METRICS_PORT like the others)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from shared.feedback.service import RefreshResult
from shared.feedback.store import IngestResult


class FeedbackMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        r = registry
        self.ingested = Counter(
            "adgen_feedback_ingested_total", "Feedback events stored, by kind", ["kind"], registry=r
        )
        self.duplicates = Counter(
            "adgen_feedback_duplicates_total",
            "Feedback events already stored (redeliveries)",
            registry=r,
        )
        self.rejected = Counter(
            "adgen_feedback_rejected_total",
            "Feedback events rejected, by reason class",
            ["reason"],
            registry=r,
        )
        self.refreshes = Counter("adgen_plan_refreshes_total", "Serving plan refreshes", registry=r)
        self.refresh_seconds = Histogram(
            "adgen_plan_refresh_seconds", "Time per serving plan refresh", registry=r
        )
        self.retired = Counter("adgen_creatives_retired_total", "Creatives retired", registry=r)

    def ingest(self, result: IngestResult) -> None:
        for kind, n in result.by_kind.items():
            self.ingested.labels(kind).inc(n)
        self.duplicates.inc(result.duplicates)
        for reason, n in result.rejected.items():
            self.rejected.labels(reason).inc(n)

    def refresh(self, result: RefreshResult) -> None:
        self.refreshes.inc()
        self.refresh_seconds.observe(result.seconds)
        self.retired.inc(len(result.retired))


_metrics: FeedbackMetrics | None = None


def get_feedback_metrics() -> FeedbackMetrics:
    global _metrics
    if _metrics is None:
        _metrics = FeedbackMetrics()
    return _metrics
