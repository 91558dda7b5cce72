"""Reason classes (Python, the SQL stand-in and migration 0003 agree) and percentiles."""

from __future__ import annotations

import importlib.util
import json
from datetime import date

import numpy as np
import pytest
from sqlalchemy import create_engine, literal, select

from shared.analytics.latency import daily_percentiles, percentile_cont
from shared.analytics.reasons import REASON_CLASSES, reason_class
from shared.analytics.views import reason_class_expr
from shared.config import REPO_ROOT
from shared.events import Rejection, parse_event
from shared.intake import admit
from shared.samples import sample_events
from shared.signing import sign, verify


def _migration_0003() -> object:
    path = REPO_ROOT / "migrations" / "versions" / "0003_analyst_questions.py"
    spec = importlib.util.spec_from_file_location("m0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_holds_the_same_rules() -> None:
    """Changing a rule needs a new migration that redefines the views (this fails until then)."""
    assert _migration_0003().REASON_CLASSES == REASON_CLASSES  # type: ignore[attr-defined]


def _real_rejections() -> dict[str, str]:
    """Reasons as the worker path writes them, from real bad inputs."""
    good = json.loads(sample_events("rs")[0].canonical_json())
    bad_type = dict(good, type="banner")
    out = {
        "too_large": parse_event(b"{" + b" " * 70_000 + b"}"),
        "not_utf8": parse_event(b'{"event_id": "\xff"}'),
        "not_json": parse_event('{"event_id": "x", '),
        "not_object": parse_event("[1, 2]"),
        "schema_version": parse_event(json.dumps(dict(good, schema_version=9))),
        "invalid_event": parse_event(json.dumps(bad_type)),
    }
    reasons = {k: v.reason for k, v in out.items() if isinstance(v, Rejection)}
    assert len(reasons) == len(out)
    reasons["signature"] = verify("{}", sign("{}", "k1"), "k2") or ""
    for cls, (args, kwargs) in {"malformed_task": ([], {}), "not_object": ([42], {})}.items():
        admitted = admit(args, kwargs, hmac_key=None, payload_cap=100, now=0.0)
        assert isinstance(admitted, Rejection)
        reasons[cls] = admitted.reason
    reasons["not_a_task"] = "not a task message (bare message on a task queue)"
    reasons["handoff_refused"] = "render hand-off refused: stale hand-off: attempt 1, live 2"
    reasons["duplicate_id"] = "duplicate event_id with a different payload (the first stands)"
    return reasons


FAILURES = {
    "gave up after 3 attempts; last error: worker lost": "worker_lost",
    "gave up after retries: ConnectionError: refused": "retries_exhausted",
    "gave up after 8 retries: OperationalError: server closed": "retries_exhausted",
    "gave up after retries: DeadlineExceeded: event deadline of 300s passed": "time_limit",
    "transient: OperationalError: server closed the connection": "transient",
    "SoftTimeLimitExceeded: SoftTimeLimitExceeded()": "time_limit",
    "render: OSError: [Errno 28] No space left on device": "render_error",
    "ValueError: 100% of products_missing": "error",
}


def test_real_rejection_reasons_get_their_class() -> None:
    for cls, reason in _real_rejections().items():
        assert reason_class("rejected", reason) == cls, reason
    assert reason_class("rejected", "something new") == "other"
    assert reason_class("failed", None) is None


def test_failure_reasons_get_their_class() -> None:
    for reason, cls in FAILURES.items():
        assert reason_class("failed", reason) == cls, reason


def test_sql_expression_agrees_with_python() -> None:
    cases = (
        [("rejected", r) for r in _real_rejections().values()]
        + [("failed", r) for r in FAILURES]
        + [("rejected", "x_y%z"), ("failed", "odd")]
    )
    with create_engine("sqlite://").connect() as conn:
        got = [
            conn.execute(select(reason_class_expr(literal(st), literal(r)))).scalar_one()
            for st, r in cases
        ]
    assert got == [reason_class(st, r) for st, r in cases]


@pytest.mark.parametrize("n", [1, 2, 5, 20, 101])
def test_percentile_cont_matches_linear_interpolation(n: int) -> None:
    values_ = np.random.default_rng(n).exponential(1000.0, n).tolist()
    for q in (0.0, 0.5, 0.95, 1.0):
        assert percentile_cont(values_, q) == pytest.approx(float(np.percentile(values_, 100 * q)))


def test_percentile_cont_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        percentile_cont([], 0.5)
    with pytest.raises(ValueError):
        percentile_cont([1.0], 1.5)


def test_daily_percentiles_groups_by_day_newest_first() -> None:
    d1, d2 = date(2026, 11, 28), date(2026, 11, 29)
    days = daily_percentiles([(d1, 100.0), (d2, 10.0), (d1, 300.0), (d2, 30.0), (d2, 20.0)])
    assert [(d.day, d.events, d.p50_ms) for d in days] == [(d2, 3, 20.0), (d1, 2, 200.0)]
    assert days[1].p95_ms == pytest.approx(290.0)
