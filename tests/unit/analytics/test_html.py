"""Pure rendering: escaping, image references, one card per creative."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shared.analytics.html import eval_summary, render_report
from shared.analytics.queries import CampaignRecord, CreativeRecord, ModelRecord, ReportData
from shared.analytics.sources import ImageSource, safe_link

EVIL = '<script>alert("x")</script>'


def _creative(i: int, size: str = "300x250", **kw: object) -> CreativeRecord:
    w, h = (int(x) for x in size.split("x"))
    fields: dict[str, object] = dict(
        creative_id=f"c{i}",
        event_id="e1",
        campaign_id="camp",
        index=i,
        ad_type="cart",
        size=size,
        width=w,
        height=h,
        variant=f"v{i}",
        style="bold",
        prompt=f"photo {EVIL}",
        headline=EVIL,
        model_version_id="sha256:abc",
        servable=i % 2 == 0,
        servable_reason=None if i % 2 == 0 else f"low alignment {EVIL}",
        object_key=f"creatives/camp/e1/c{i}.png",
        bytes=100,
        created_at=None,
        timings_ms={"generate": 12.0, "compose": None},
        scores={"alignment": 0.5 + i / 10},
    )
    fields.update(kw)
    return CreativeRecord(**fields)  # type: ignore[arg-type]


def _data(creatives: list[CreativeRecord]) -> ReportData:
    camp = CampaignRecord(
        campaign_id="camp",
        name=f"Sale {EVIL}",
        advertiser_id="adv&co",
        events_by_status={"done": 1},
        creatives_total=len(creatives),
        creatives=creatives,
        processing_ms=[10.0],
    )
    model = ModelRecord(
        model_version_id="sha256:abc",
        name=EVIL,
        kind="generator",
        creatives=len(creatives),
        mean_scores={"alignment": 0.6},
        report_metrics={"fid": 41.5, "note": EVIL},
    )
    return ReportData(
        generated_at=datetime(2026, 1, 2, tzinfo=UTC),
        campaign_filter=None,
        limit=None,
        campaigns=[camp],
        models=[model],
    )


def _sources(creatives: list[CreativeRecord]) -> dict[str, ImageSource]:
    return {
        c.creative_id: ImageSource(
            href=f"https://s3.example/b/{c.object_key}?X-Amz=1&b=2",
            src=f"https://s3.example/b/{c.object_key}?X-Amz=1&b=2",
        )
        for c in creatives
    }


def test_user_text_is_escaped_everywhere() -> None:
    creatives = [_creative(0), _creative(1)]
    page = render_report(_data(creatives), _sources(creatives), {"scores": None})
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "adv&amp;co" in page
    # Presigned query strings are attribute-escaped, not mangled.
    assert "?X-Amz=1&amp;b=2" in page
    assert 'http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;' in page


def test_one_image_per_creative_grouped_by_size() -> None:
    creatives = [_creative(i) for i in range(3)] + [_creative(i, "728x90") for i in range(3, 5)]
    page = render_report(_data(creatives), _sources(creatives), {})
    ids = re.findall(r'<img [^>]*data-creative-id="([^"]+)"', page)
    assert sorted(ids) == sorted(c.creative_id for c in creatives)
    assert page.index("300x250 · 3 creatives") < page.index("728x90 · 2 creatives")
    assert page.count("not servable") == 2 and "low alignment" in page


def test_missing_image_and_unsafe_links() -> None:
    creatives = [_creative(0), _creative(1)]
    sources = {
        "c0": ImageSource(href="", src="", error="NoSuchKey: <gone>"),
        "c1": ImageSource(href="javascript:alert(1)", src="data:image/webp;base64,AAAA"),
    }
    page = render_report(_data(creatives), sources, {})
    assert "image unavailable: NoSuchKey: &lt;gone&gt;" in page
    assert "javascript:" not in page
    assert 'src="data:image/webp;base64,AAAA"' in page
    assert safe_link("JavaScript:alert(1)") == "" and safe_link("file:///x.png")


def test_plots_are_embedded_and_missing_ones_explained() -> None:
    page = render_report(
        _data([]),
        {},
        {"scores": b"\x89PNG fake", "models": None},
        captions={"models": "Mean scores per model"},
    )
    assert 'src="data:image/png;base64,' in page
    assert "Mean scores per model: no data yet" in page
    assert "no creatives" in page


def test_eval_summary_shows_headline_report_numbers() -> None:
    report = {
        "eval": {"fid": 41.5, "fid_n": 500.0, "kid": 0.02, "kid_std": 0.01, "r_precision": None},
        "ceiling": {"fid": 3.0},
        "samples": 500,
        "split": "test",
    }
    assert eval_summary(report) == [("fid", 41.5), ("kid", 0.02), ("samples", 500.0)]
    assert eval_summary({"fid": 10, "note": "x", "ok": True}) == [("fid", 10.0)]
    assert eval_summary({}) == []


def test_problem_and_latency_sections_escape_reasons_and_show_numbers() -> None:
    from datetime import date

    from shared.analytics.latency import DayLatency
    from shared.analytics.queries import ProblemGroup

    data = _data([_creative(0)])
    data.problems = [
        ProblemGroup(
            "rejected",
            "invalid_event",
            3,
            f"invalid event: {EVIL}",
            datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        ),
        ProblemGroup("failed", "error", 1, "ValueError: x", None),
    ]
    data.latency = [DayLatency(date(2026, 1, 2), 4, 1234.5, 9876.0)]
    page = render_report(data, {}, {})
    assert "<script>" not in page and "invalid event: &lt;script&gt;" in page
    problems = page[page.index('<section id="problems">') : page.index('<section id="latency">')]
    assert problems.index("invalid_event") < problems.index(">error<")
    assert "<td>3</td><td>2026-01-02 03:04</td>" in problems
    assert "<td>2026-01-02</td><td>4</td><td>1,234</td><td>9,876</td>" in page
    empty = render_report(_data([]), {}, {})
    assert "no failed or rejected events" in empty and "no events done yet" in empty
