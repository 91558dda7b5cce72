"""Evaluation: the AdGen evaluator model, registered metrics, per-creative scorer and gate,
per-model reports. See docs/evaluation.md."""

from shared.eval import metrics as _metrics  # noqa: F401 - registers the metrics
