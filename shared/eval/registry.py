"""Metrics registered by name. Each is a plain typed function returning ``dict[str, float]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

MetricFn = Callable[..., dict[str, float]]
F = TypeVar("F", bound=MetricFn)

METRICS: dict[str, MetricFn] = {}


def register_metric(name: str) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        if name in METRICS:
            raise ValueError(f"metric {name!r} registered twice")
        METRICS[name] = fn
        return fn

    return wrap


def get_metric(name: str) -> MetricFn:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {sorted(METRICS)}") from None


def compute(name: str, *args: Any, **kwargs: Any) -> dict[str, float]:
    return get_metric(name)(*args, **kwargs)
