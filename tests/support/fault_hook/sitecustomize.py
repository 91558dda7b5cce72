"""Test-only fault injection for real worker processes (never shipped in production code).

A test puts this folder on PYTHONPATH and sets ADGEN_TEST_FAULT=crash:SKU or hang:SKU; Python
imports `sitecustomize` at start-up in every process it spawns (the supervisor and its workers),
and this wraps the pipeline's generate stage (single events and bundles) so that an event
showing that SKU kills the process like a segfault, or never returns like a hung device call.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

_FAULT = os.environ.get("ADGEN_TEST_FAULT", "")


def _install(kind: str, sku: str) -> None:
    import shared.pipeline as pipeline

    real, real_together = pipeline.generate_images, pipeline.generate_together

    def strike(event: Any) -> None:
        if any(p.sku == sku for p in event.products):
            logging.getLogger("adgen.test").critical("fault injection: %s on SKU %s", kind, sku)
            if kind == "crash":
                logging.shutdown()
                os._exit(134)
            while True:  # hang
                time.sleep(60)

    def faulty(event: Any, *args: Any, **kwargs: Any) -> Any:
        strike(event)
        return real(event, *args, **kwargs)

    def faulty_together(events: Any, *args: Any, **kwargs: Any) -> Any:  # bundles
        for event in events:
            strike(event)
        return real_together(events, *args, **kwargs)

    pipeline.generate_images = faulty
    pipeline.generate_together = faulty_together


if _FAULT:
    _kind, _, _sku = _FAULT.partition(":")
    if _kind not in ("crash", "hang") or not _sku:
        raise SystemExit(f"ADGEN_TEST_FAULT must be crash:SKU or hang:SKU, not {_FAULT!r}")
    _install(_kind, _sku)
