"""The report as one self-contained HTML page. Pure: records in, a string out.

Every piece of text passes through `_e` (product titles, prompts, campaign names and reasons are
user input). URLs are attribute-escaped and limited to image-safe schemes, and a CSP meta tag
forbids scripts outright, so a missed escape still could not run anything.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from shared.analytics.latency import DayLatency
from shared.analytics.queries import (
    CampaignRecord,
    CreativeRecord,
    ModelRecord,
    ProblemGroup,
    ReportData,
)
from shared.analytics.sources import ImageSource, safe_link

CSP = (
    "default-src 'none'; img-src data: https: http: file:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;
 background:#f4f5f8}
header{background:#1d2330;color:#fff;padding:20px 28px}
header h1{margin:0 0 4px;font-size:22px}.meta{color:#aab3c5;margin:0;font-size:12px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-top:14px}
.tile{background:#2b3344;border-radius:8px;padding:8px 14px;min-width:110px}
.tile b{display:block;font-size:20px}.tile span{font-size:12px;color:#c7cfdd}
main{padding:8px 28px 40px}nav{margin:12px 0;font-size:13px}nav a{margin-right:12px}
h2{margin:28px 0 6px;font-size:18px}h2 small{font-weight:normal;color:#667;font-size:12px}
h3{margin:18px 0 8px;font-size:15px;color:#334}
.plots{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.plots figure{margin:0;background:#fff;padding:8px;border-radius:8px;box-shadow:0 1px 3px #0002}
.plots img{max-width:100%}
.empty{color:#778;font-style:italic}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;font-size:12px}
.models{background:#fff;border-radius:8px}.models td,.models th{border-bottom:1px solid #e3e6ec}
.sizes{display:flex;flex-wrap:wrap;gap:0 28px;align-items:flex-start}
.size{flex:0 1 auto;max-width:100%}.gallery{display:flex;flex-wrap:wrap;gap:14px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;margin:0;padding:10px;
 box-sizing:border-box;width:var(--card);max-width:100%;
 overflow:hidden}.card.bad{outline:2px solid #d9534f}
.card img{display:block;width:auto;height:auto;max-width:100%;max-height:var(--img-h);
 background:#eee;border:1px solid #ddd}
.missing{padding:30px 8px;background:#fbeaea;color:#a33;font-size:12px}
.badges{margin:6px 0 2px}.badge{display:inline-block;border-radius:10px;padding:0 8px;
 font-size:11px;background:#e8ebf1;margin:0 4px 4px 0}.badge.ok{background:#d8f0dc;color:#1e6b2e}
.badge.no{background:#f8d7d6;color:#8a1f1b}.reason{color:#8a1f1b;font-size:12px}
.headline{font-weight:600;margin:2px 0}
.scores{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));margin:4px 0;
 font-size:12px}.scores dt{color:#556;display:inline}.scores dd{display:inline;margin:0 0 0 6px;
 font-weight:600;font-variant-numeric:tabular-nums}
.scores div{white-space:nowrap}
details{font-size:12px;color:#445}code{font-size:11px;word-break:break-all}
.status{font-size:12px;color:#445}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _share(num: int, den: int) -> str:
    return f"{100 * num / den:.0f}%" if den else "–"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _tile(value: object, label: str) -> str:
    return f'<div class="tile"><b>{_e(value)}</b><span>{_e(label)}</span></div>'


def _status_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{_e(s)} {n}" for s, n in sorted(counts.items())) or "no events"


def render_header(data: ReportData, expires_at: datetime | None) -> str:
    creatives = data.creatives
    servable = sum(c.servable for c in creatives)
    events = data.events_by_status
    scope = f"campaign {data.campaign_filter}" if data.campaign_filter else "all campaigns"
    expiry = f" · image links expire {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    shown = f"{len(creatives)} shown" if len(creatives) != data.creatives_total else "all shown"
    return (
        "<header><h1>AdGen creative report</h1>"
        f'<p class="meta">{_e(scope)} · generated {data.generated_at:%Y-%m-%d %H:%M} UTC'
        f'{_e(expiry)}</p><div class="tiles">'
        + _tile(len(data.campaigns), "campaigns")
        + _tile(
            sum(events.values()),
            "events: " + ", ".join(f"{s} {n}" for s, n in sorted(events.items())),
        )
        + _tile(data.creatives_total, f"creatives ({shown})")
        + _tile(_share(servable, len(creatives)), f"servable ({servable} of {len(creatives)})")
        + _tile(len(data.models), "model versions")
        + "</div></header>"
    )


def render_plots(plots: Mapping[str, bytes | None], captions: Mapping[str, str]) -> str:
    if not plots:
        return ""
    parts = []
    for name, png in plots.items():
        caption = _e(captions.get(name, name))
        body = (
            f'<img src="{_data_uri(png)}" alt="{caption}">'
            if png
            else f'<p class="empty">{caption}: no data yet</p>'
        )
        parts.append(f"<figure>{body}</figure>")
    return (
        '<section id="plots"><h2>Plots</h2><div class="plots">'
        + "".join(parts)
        + "</div></section>"
    )


_DETAIL_SUFFIXES = ("_n", "_std", "_candidates", "_classes")


def eval_summary(report_metrics: Mapping[str, object]) -> list[tuple[str, float]]:
    """The headline numbers of an evaluation report: its `eval` block (or the top level when
    there is none) without sample counts and spreads, plus the sample count."""
    block = report_metrics.get("eval")
    source = block if isinstance(block, dict) else report_metrics
    out = [
        (str(k), float(v))
        for k, v in sorted(source.items())
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and not str(k).endswith(_DETAIL_SUFFIXES)
    ]
    samples = report_metrics.get("samples")
    if isinstance(block, dict) and isinstance(samples, int | float):
        out.append(("samples", float(samples)))
    return out


def render_models(models: Sequence[ModelRecord]) -> str:
    if not models:
        return (
            '<section id="models"><h2>Models</h2><p class="empty">no model versions</p></section>'
        )
    rows = []
    for i, m in enumerate(models, 1):
        means = ", ".join(f"{_e(k)} {_fmt(v)}" for k, v in m.mean_scores.items()) or "–"
        metrics = ", ".join(f"{_e(k)} {_fmt(v)}" for k, v in eval_summary(m.report_metrics))
        metrics = metrics or "–"
        rows.append(
            f"<tr><td>{i}</td><td><code>{_e(m.model_version_id)}</code></td>"
            f"<td>{_e(m.name)}</td><td>{_e(m.kind)}</td><td>{m.creatives}</td>"
            f"<td>{means}</td><td>{metrics}</td></tr>"
        )
    return (
        '<section id="models"><h2>Models</h2><table class="models"><tr><th>#</th>'
        "<th>version</th><th>name</th><th>kind</th><th>creatives</th><th>mean scores</th>"
        "<th>evaluation report</th></tr>" + "".join(rows) + "</table></section>"
    )


def render_problems(groups: Sequence[ProblemGroup]) -> str:
    head = (
        '<section id="problems"><h2>Problems by reason <small>failed events and refused '
        "messages (analytics.event_problems)</small></h2>"
    )
    if not groups:
        return head + '<p class="empty">no failed or rejected events</p></section>'
    rows = "".join(
        f"<tr><td>{_e(g.status)}</td><td><code>{_e(g.reason_class)}</code></td>"
        f"<td>{g.count}</td><td>{_e(g.latest_at and f'{g.latest_at:%Y-%m-%d %H:%M}')}</td>"
        f'<td class="reason">{_e(g.example[:300])}</td></tr>'
        for g in groups
    )
    return (
        head + '<table class="models"><tr><th>status</th><th>reason class</th><th>count</th>'
        "<th>latest (UTC)</th><th>example reason</th></tr>" + rows + "</table></section>"
    )


def render_latency(days: Sequence[DayLatency]) -> str:
    head = (
        '<section id="latency"><h2>Received → done per day <small>events done that UTC '
        "day (analytics.events)</small></h2>"
    )
    if not days:
        return head + '<p class="empty">no events done yet</p></section>'
    rows = "".join(
        f"<tr><td>{d.day:%Y-%m-%d}</td><td>{d.events}</td>"
        f"<td>{_fmt(d.p50_ms)}</td><td>{_fmt(d.p95_ms)}</td></tr>"
        for d in days
    )
    return (
        head + '<table class="models"><tr><th>day</th><th>events done</th><th>p50 ms</th>'
        "<th>p95 ms</th></tr>" + rows + "</table></section>"
    )


def render_card(c: CreativeRecord, source: ImageSource | None) -> str:
    label = f"{c.ad_type} {c.size} variant {c.variant}"
    if source and source.src:
        lazy = "" if source.src.startswith("data:") else ' loading="lazy"'
        img = (
            f'<img src="{_e(source.src)}" alt="{_e(label)}" width="{c.width}" '
            f'height="{c.height}" data-creative-id="{_e(c.creative_id)}"{lazy}>'
        )
        href = safe_link(source.href)
        if href:
            img = f'<a href="{_e(href)}" rel="noreferrer">{img}</a>'
    else:
        err = source.error if source else "no image reference"
        img = f'<div class="missing">image unavailable: {_e(err)}</div>'
    servable = (
        '<span class="badge ok">servable</span>'
        if c.servable
        else '<span class="badge no">not servable</span>'
    )
    reason = f'<div class="reason">{_e(c.servable_reason)}</div>' if c.servable_reason else ""
    scores = "".join(
        f"<div><dt>{_e(k)}</dt><dd>{_fmt(v)}</dd></div>" for k, v in sorted(c.scores.items())
    )
    scores_html = (
        f'<dl class="scores">{scores}</dl>' if scores else '<p class="empty">no scores</p>'
    )
    timings = ", ".join(f"{_e(k)} {_fmt(v)} ms" for k, v in c.timings_ms.items() if v is not None)
    headline = f'<div class="headline">{_e(c.headline)}</div>' if c.headline else ""
    return (
        f'<figure class="card{"" if c.servable else " bad"}" id="cr-{_e(c.creative_id)}">{img}'
        f'<figcaption><div class="badges">{servable}<span class="badge">{_e(c.ad_type)}</span>'
        f'<span class="badge">{_e(c.variant)}</span><span class="badge">{_e(c.style)}</span>'
        f"</div>{reason}{headline}{scores_html}"
        f"<details><summary>prompt, ids, timings</summary><p>{_e(c.prompt)}</p>"
        f"<p>creative <code>{_e(c.creative_id)}</code><br>event <code>{_e(c.event_id)}</code>"
        f"<br>model <code>{_e(c.model_version_id)}</code><br>{timings}</p></details>"
        "</figcaption></figure>"
    )


MAX_IMG_H = 320  # tall skyscrapers are shown scaled down to this height
MAX_CARD_W = 540


def _card_px(width: int, height: int) -> int:
    """Card width for a size: the image as displayed, at least wide enough for the scores."""
    shown = width * min(1.0, MAX_IMG_H / height) if height else width
    return int(max(220, min(MAX_CARD_W, shown + 22)))


def render_campaign(i: int, camp: CampaignRecord, sources: Mapping[str, ImageSource]) -> str:
    servable = sum(c.servable for c in camp.creatives)
    shown = len(camp.creatives)
    parts = [
        f'<section class="campaign" id="campaign-{i}"><h2>{_e(camp.name)} '
        f"<small>{_e(camp.campaign_id)} · advertiser {_e(camp.advertiser_id)}</small></h2>"
        f'<p class="status">events: {_status_text(camp.events_by_status)} · creatives '
        f"{camp.creatives_total}{'' if shown == camp.creatives_total else f' ({shown} shown)'}"
        f" · servable {_share(servable, shown)}</p>"
    ]
    if not camp.creatives:
        parts.append('<p class="empty">no creatives</p>')
    if camp.creatives:
        parts.append('<div class="sizes">')
    for size, group in camp.by_size().items():
        card = _card_px(group[0].width, group[0].height)
        parts.append(
            f'<div class="size"><h3>{_e(size)} · {len(group)} '
            f'creative{"s" * (len(group) != 1)}</h3><div class="gallery" '
            f'style="--card:{card}px;--img-h:{MAX_IMG_H}px">'
        )
        parts.extend(render_card(c, sources.get(c.creative_id)) for c in group)
        parts.append("</div></div>")
    if camp.creatives:
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def render_report(
    data: ReportData,
    sources: Mapping[str, ImageSource],
    plots: Mapping[str, bytes | None],
    *,
    captions: Mapping[str, str] | None = None,
    expiry_s: int | None = None,
) -> str:
    """The whole page. `sources` maps creative id to its image; `plots` name to PNG bytes."""
    expires_at = data.generated_at + timedelta(seconds=expiry_s) if expiry_s else None
    nav = " ".join(
        f'<a href="#campaign-{i}">{_e(c.name)}</a>' for i, c in enumerate(data.campaigns)
    )
    body = "".join(render_campaign(i, c, sources) for i, c in enumerate(data.campaigns))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>AdGen report</title><style>{CSS}</style></head><body>"
        + render_header(data, expires_at)
        + f"<main><nav>{nav}</nav>"
        + render_plots(plots, captions or {})
        + render_models(data.models)
        + render_problems(data.problems)
        + render_latency(data.latency)
        + (body or '<p class="empty">no campaigns</p>')
        + "</main></body></html>\n"
    )
