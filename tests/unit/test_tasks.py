"""The Celery layer: task names, the retry policy in one place, outcomes as task states."""

from __future__ import annotations

import pytest
from celery.utils.time import get_exponential_backoff_interval

from shared.pipeline import TRANSIENT_ERRORS, Outcome
from workers.app import app
from workers.tasks import (
    EventFailed,
    EventRejected,
    EventTask,
    process_bundle,
    process_event,
    render_event,
    settle,
    settle_bundle,
)


def test_registered_task_names_are_a_deliberate_change() -> None:
    ours = sorted(name for name in app.tasks if name.startswith("adgen."))
    assert ours == ["adgen.process_bundle", "adgen.process_event", "adgen.render_event"]


def test_both_tasks_share_one_retry_policy() -> None:
    for task in (process_event, process_bundle, render_event):
        assert isinstance(task, EventTask)
        assert task.autoretry_for == TRANSIENT_ERRORS
        assert task.acks_late and task.reject_on_worker_lost
        assert task.throws == (EventRejected, EventFailed)


def test_backoff_doubles_and_is_capped() -> None:
    task = process_event
    delays = [
        get_exponential_backoff_interval(
            task.retry_backoff, n, task.retry_backoff_max, task.retry_jitter
        )
        for n in range(10)
    ]
    assert delays[:4] == [1, 2, 4, 8]
    assert max(delays) == task.retry_backoff_max == 60
    assert task.max_retries == 8


@pytest.mark.parametrize(
    ("status", "exc"),
    [("rejected", EventRejected), ("failed", EventFailed), ("gave_up", EventFailed)],
)
def test_refused_and_failed_outcomes_end_the_task_in_failure(
    status: str, exc: type[Exception]
) -> None:
    with pytest.raises(exc, match="e-1: why"):
        settle(Outcome(status, "e-1", detail="why"))


def test_successful_outcomes_are_results() -> None:
    assert settle(Outcome("done", "e-1", creatives=3)) == {
        "status": "done",
        "event_id": "e-1",
        "creatives": 3,
    }
    assert settle(Outcome("duplicate", "e-1"))["status"] == "duplicate"


def test_a_bundle_result_counts_its_events_by_outcome() -> None:
    got = settle_bundle(
        [
            Outcome("done", "e-1", creatives=2),
            Outcome("done", "e-2", creatives=1),
            Outcome("rejected", "e-3", detail="bad"),
            Outcome("duplicate", "e-4"),
        ]
    )
    assert got == {
        "status": "bundle",
        "events": 4,
        "creatives": 3,
        "done": 2,
        "rejected": 1,
        "duplicate": 1,
    }
