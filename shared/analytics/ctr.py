"""The report's CTR section: click-through rate per creative with 90% credible intervals, from
the daily feedback aggregates (never raw feedback), with a plot and the serving share.

Works on PostgreSQL (through the analytics views, so as the analyst role) and SQLite (the
tables).
Intervals are exact Beta(1 + clicks, 1 + impressions − clicks) quantiles.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from shared.db.models import Creative
from shared.feedback.bandit import credible_interval
from shared.feedback.models import CreativeRetirement, FeedbackDaily, ServingPlanRow


@dataclass(frozen=True)
class CtrRow:
    creative_id: str
    campaign_id: str
    size: str
    style: str
    variant: str
    impressions: int
    clicks: int
    conversions: int
    mean: float
    low: float
    high: float
    serving_share: float | None  # mean selection probability over its plan contexts
    retired: bool


# The analytics views (migration 0005) this section reads on Postgres, so the report runs as the
# read-only analyst role (which may not read the feedback tables).
_CTR_CREATIVES = table(
    "ctr_creatives",
    *(
        column(c)
        for c in (
            "creative_id",
            "campaign_id",
            "size",
            "style",
            "variant",
            "retired",
            "impressions",
            "clicks",
            "conversions",
        )
    ),
    schema="analytics",
)
_SERVING_PLAN = table(
    "serving_plan", column("creative_id"), column("probability"), schema="analytics"
)

_Meta = tuple[str, str, str, str]  # campaign_id, size, style, variant


def _from_views(
    session: Session, campaign: str | None, limit: int
) -> tuple[dict[str, tuple[int, int, int]], dict[str, _Meta], set[str], dict[str, float]]:
    v = _CTR_CREATIVES.c
    q = (
        select(
            v.creative_id,
            v.impressions,
            v.clicks,
            v.conversions,
            v.campaign_id,
            v.size,
            v.style,
            v.variant,
            v.retired,
        )
        .order_by(v.impressions.desc())
        .limit(limit)
    )
    if campaign is not None:
        q = q.where(v.campaign_id == campaign)
    rows = session.execute(q).all()
    totals = {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows}
    meta = {r[0]: (r[4], r[5], r[6], r[7]) for r in rows}
    retired = {r[0] for r in rows if r[8]}
    p = _SERVING_PLAN.c
    share = (
        dict(
            session.execute(
                select(p.creative_id, func.avg(p.probability))
                .where(p.creative_id.in_(list(totals)))
                .group_by(p.creative_id)
            ).all()
        )
        if totals
        else {}
    )
    return totals, meta, retired, share


def _from_tables(
    session: Session, campaign: str | None, limit: int
) -> tuple[dict[str, tuple[int, int, int]], dict[str, _Meta], set[str], dict[str, float]]:
    d = FeedbackDaily
    q = (
        select(d.creative_id, func.sum(d.impressions), func.sum(d.clicks), func.sum(d.conversions))
        .group_by(d.creative_id)
        .order_by(func.sum(d.impressions).desc())
        .limit(limit)
    )
    if campaign is not None:
        q = q.where(d.campaign_id == campaign)
    totals = {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in session.execute(q)}
    if not totals:
        return {}, {}, set(), {}
    ids = list(totals)
    meta = {
        c.creative_id: (c.campaign_id, c.size, c.style, c.variant)
        for c in session.execute(select(Creative).where(Creative.creative_id.in_(ids))).scalars()
    }
    share: dict[str, float] = dict(
        session.execute(
            select(ServingPlanRow.creative_id, func.avg(ServingPlanRow.probability))
            .where(ServingPlanRow.creative_id.in_(ids))
            .group_by(ServingPlanRow.creative_id)
        ).all()
    )
    retired = set(
        session.execute(
            select(CreativeRetirement.creative_id).where(CreativeRetirement.creative_id.in_(ids))
        ).scalars()
    )
    return totals, meta, retired, share


def load_ctr(*, session: Session, campaign: str | None = None, limit: int = 40) -> list[CtrRow]:
    """The `limit` most-shown creatives with feedback, best posterior mean first. On Postgres
    from the analytics views, elsewhere (embedded SQLite, no views) from the tables."""
    source = _from_views if session.get_bind().dialect.name == "postgresql" else _from_tables
    totals, meta, retired, share = source(session, campaign, limit)
    if not totals:
        return []
    ids = list(totals)
    n = np.array([totals[i][0] for i in ids], dtype=np.float64)
    k = np.minimum(np.array([totals[i][1] for i in ids], dtype=np.float64), n)
    alpha, beta = 1.0 + k, 1.0 + n - k
    low, high = credible_interval(alpha, beta)
    rows = []
    for j, cid in enumerate(ids):
        camp, size, style, variant = meta.get(cid, ("?", "?", "?", "?"))
        rows.append(
            CtrRow(
                cid,
                camp,
                size,
                style,
                variant,
                int(n[j]),
                int(k[j]),
                totals[cid][2],
                float(alpha[j] / (alpha[j] + beta[j])),
                float(low[j]),
                float(high[j]),
                float(share[cid]) if cid in share else None,
                cid in retired,
            )
        )
    return sorted(rows, key=lambda r: -r.mean)


def ctr_plot(rows: list[CtrRow]) -> bytes | None:
    """Posterior mean CTR per creative with its 90% interval (retired ones in grey)."""
    if not rows:
        return None
    shown = rows[:25][::-1]
    fig = Figure(figsize=(8, max(2.5, 0.28 * len(shown) + 1)))
    ax = fig.add_subplot()
    y = np.arange(len(shown))
    means = np.array([r.mean for r in shown]) * 100
    err = np.array([[r.mean - r.low for r in shown], [r.high - r.mean for r in shown]]) * 100
    retired = np.array([r.retired for r in shown])
    for mask, colour, label in ((~retired, "#4C72B0", "live"), (retired, "#9aa0a6", "retired")):
        if mask.any():
            ax.errorbar(
                means[mask],
                y[mask],
                xerr=err[:, mask],
                fmt="o",
                color=colour,
                capsize=3,
                label=label,
            )
    ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(y, [f"{r.variant[:28]} · {r.size}" for r in shown], fontsize=8)
    ax.set_xlabel("CTR % (posterior mean, 90% credible interval)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def render_ctr_section(rows: list[CtrRow], png: bytes | None) -> str:
    if not rows:
        return (
            '<section id="ctr"><h2>Click-through rate</h2>'
            '<p class="empty">no feedback yet</p></section>'
        )
    img = (
        ""
        if png is None
        else '<figure><img alt="CTR per creative with 90% intervals" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}"></figure>'
    )
    head = (
        "<tr><th>creative</th><th>campaign</th><th>size</th><th>style</th>"
        "<th>impressions</th><th>clicks</th><th>conversions</th><th>CTR (90% interval)</th>"
        "<th>serving share</th><th>status</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(r.variant)}<br><small>{_e(r.creative_id)}</small></td>"
        f"<td>{_e(r.campaign_id)}</td><td>{_e(r.size)}</td><td>{_e(r.style)}</td>"
        f"<td>{r.impressions:,}</td><td>{r.clicks:,}</td><td>{r.conversions:,}</td>"
        f"<td>{r.mean:.2%} ({r.low:.2%}–{r.high:.2%})</td>"
        f"<td>{'' if r.serving_share is None else f'{r.serving_share:.1%}'}</td>"
        f"<td>{'retired' if r.retired else 'live'}</td></tr>"
        for r in rows
    )
    return (
        f'<section id="ctr"><h2>Click-through rate</h2>{img}'
        f'<table class="ctr">{head}{body}</table></section>'
    )


def add_ctr_section(page: str, *, session: Session, campaign: str | None = None) -> str:
    """The report page with the CTR section added at the end of its main content."""
    rows = load_ctr(session=session, campaign=campaign)
    section = render_ctr_section(rows, ctr_plot(rows))
    at = page.rfind("</main>")
    return page[:at] + section + page[at:] if at >= 0 else page + section
