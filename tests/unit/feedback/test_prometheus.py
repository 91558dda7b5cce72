"""Prometheus counters of the feedback worker follow the ingest and refresh results."""

from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry

from shared.feedback.service import RefreshResult
from shared.feedback.store import IngestResult
from workers.feedback_prometheus import FeedbackMetrics


def test_counters_follow_results() -> None:
    reg = CollectorRegistry()
    m = FeedbackMetrics(reg)
    m.ingest(
        IngestResult(
            stored=5,
            duplicates=2,
            rejected=Counter(orphan_click=3, invalid=1),
            by_kind=Counter(impression=4, click=1),
        )
    )
    m.refresh(RefreshResult(retired=["a", "b"], seconds=0.2))

    def value(name: str, **labels: str) -> float:
        v = reg.get_sample_value(name, labels)
        assert v is not None, (name, labels)
        return v

    assert value("adgen_feedback_ingested_total", kind="impression") == 4
    assert value("adgen_feedback_ingested_total", kind="click") == 1
    assert value("adgen_feedback_duplicates_total") == 2
    assert value("adgen_feedback_rejected_total", reason="orphan_click") == 3
    assert value("adgen_plan_refreshes_total") == 1
    assert value("adgen_creatives_retired_total") == 2
    assert value("adgen_plan_refresh_seconds_count") == 1
