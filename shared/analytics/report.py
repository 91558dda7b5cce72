"""`adgen report` glue: query, resolve image links, plot, render, write one HTML file."""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from shared.analytics import plots
from shared.analytics.ctr import add_ctr_section
from shared.analytics.html import render_report
from shared.analytics.queries import TIMING_STAGES, ReportData, load_report_data
from shared.analytics.sources import Progress, check_expiry, resolve_sources
from shared.db.engine import session_scope
from shared.storage import FileStore, ObjectStore

CAPTIONS = {
    "scores": "Score distributions over the creatives in this report",
    "models": "Mean scores per model version (all creatives of these campaigns)",
    "timings": "Processing time per stage and per event",
}


@dataclass(frozen=True)
class ReportSummary:
    path: Path
    campaigns: int
    creatives_shown: int
    creatives_total: int
    missing_images: int
    bytes: int


def report_plots(data: ReportData) -> dict[str, bytes | None]:
    scores: dict[str, list[float]] = defaultdict(list)
    stages: dict[str, list[float]] = defaultdict(list)
    for c in data.creatives:
        for metric, value in c.scores.items():
            if math.isfinite(value):
                scores[metric].append(value)
        for stage in TIMING_STAGES:
            ms = c.timings_ms.get(stage)
            if ms is not None:
                stages[stage].append(ms)
    stages["event total"] = [ms for camp in data.campaigns for ms in camp.processing_ms]
    return {
        "scores": plots.score_histograms(dict(sorted(scores.items()))),
        "models": plots.model_comparison({m.model_version_id: m.mean_scores for m in data.models}),
        "timings": plots.timing_boxplot(stages),
    }


def build_report(
    *,
    db_url: str,
    store: ObjectStore,
    out: Path,
    campaign: str | None = None,
    expiry_s: int = 3600,
    limit: int | None = None,
    embed: bool | None = None,
    thumb_px: int = 320,
    with_plots: bool = True,
    progress: Progress | None = None,
) -> ReportSummary:
    """Write the report to `out` (atomically). `embed=None` embeds thumbnails only for a local
    store, whose file:// links a browser may refuse to load from a page."""
    check_expiry(expiry_s)
    if limit is not None and limit < 1:
        raise ValueError("limit must be at least 1")
    with session_scope(db_url) as session:
        data = load_report_data(session=session, campaign=campaign, limit=limit)
    if campaign is not None and not data.campaigns:
        raise LookupError(f"no campaign {campaign!r}")
    embed = isinstance(store, FileStore) if embed is None else embed
    sources = resolve_sources(
        store,
        data.creatives,
        expiry_s=expiry_s,
        embed_thumbnails=embed,
        thumb_px=thumb_px,
        progress=progress,
    )
    figures = report_plots(data) if with_plots else {}
    page = render_report(
        data,
        sources,
        figures,
        captions=CAPTIONS,
        expiry_s=None if isinstance(store, FileStore) else expiry_s,
    )
    with session_scope(db_url) as session:  # the feedback loop's section (docs/feedback.md)
        page = add_ctr_section(page, session=session, campaign=campaign)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return ReportSummary(
        path=out,
        campaigns=len(data.campaigns),
        creatives_shown=len(data.creatives),
        creatives_total=data.creatives_total,
        missing_images=sum(1 for s in sources.values() if s.error),
        bytes=len(page.encode("utf-8")),
    )
