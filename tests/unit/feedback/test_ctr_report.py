"""The report's CTR section: exact intervals from the daily aggregates, a plot, escaped text."""

from __future__ import annotations

from datetime import date

import pytest
from scipy.stats import beta as beta_dist
from sqlalchemy import update

from shared.analytics.ctr import add_ctr_section, ctr_plot, load_ctr
from shared.config import get_settings
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.db.models import Creative
from shared.feedback import simulate
from shared.feedback.models import FeedbackDaily


def test_ctr_section_on_sqlite(adgen_env: dict[str, str]) -> None:
    url = get_settings().resolved_database_url
    upgrade(url)
    with session_scope(url) as s:
        ids = simulate.install(simulate.make_world(1, 3), session=s, campaign="camp")
        s.execute(
            update(Creative)
            .where(Creative.creative_id == ids[0])
            .values(variant="<script>alert(1)</script>")
        )
        for cid, day, imps, clicks in [
            (ids[0], date(2026, 11, 28), 600, 30),
            (ids[0], date(2026, 11, 29), 400, 20),
            (ids[1], date(2026, 11, 29), 1000, 10),
        ]:
            s.add(
                FeedbackDaily(
                    creative_id=cid,
                    segment="sporty",
                    day=day,
                    campaign_id="camp",
                    size="300x250",
                    impressions=imps,
                    clicks=clicks,
                    conversions=1,
                    conversion_value=5.0,
                )
            )
    with session_scope(url) as s:
        rows = load_ctr(session=s)
        page = add_ctr_section("<html><main>x</main></html>", session=s)
        empty = add_ctr_section("<main></main>", session=s, campaign="none")
    dispose_engines()
    assert [r.creative_id for r in rows] == [ids[0], ids[1]]  # best posterior mean first
    top = rows[0]
    assert (top.impressions, top.clicks, top.conversions) == (1000, 50, 2)
    assert top.low == pytest.approx(beta_dist.ppf(0.05, 51, 951))
    assert top.high == pytest.approx(beta_dist.ppf(0.95, 51, 951))
    assert ctr_plot(rows)[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.index('<section id="ctr">') < page.index("</main>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "5.09%" in page  # 51/1002
    assert "no feedback yet" in empty and ctr_plot([]) is None
