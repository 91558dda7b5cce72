"""`build_report` on the embedded stack (SQLite + local store), fed by the real worker path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from shared.analytics.report import build_report
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import downgrade, upgrade
from shared.db.models import Creative
from shared.storage import ObjectStore, open_store
from tests.unit.analytics.chromium import chromium_binary, dump_dom, screenshot
from tests.unit.analytics.helpers import HOSTILE_CAMPAIGN, HOSTILE_TITLE, populate


@dataclass
class Embedded:
    db: str
    store: ObjectStore
    root: Path


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, tiny_runtime: object) -> Iterator[Embedded]:
    root = tmp_path_factory.mktemp("analytics-embedded")
    db = f"sqlite:///{root / 'db.sqlite3'}"
    upgrade(db)
    store = open_store((root / "objects").as_uri())
    store.ensure_bucket()
    populate(db, store, tiny_runtime, prefix="rep")
    yield Embedded(db, store, root)
    dispose_engines()


def _creative_ids(db: str, campaign: str | None = None) -> set[str]:
    with session_scope(db) as s:
        q = select(Creative.creative_id)
        if campaign:
            q = q.where(Creative.campaign_id == campaign)
        return set(s.execute(q).scalars())


def _img_ids(page: str) -> list[str]:
    return re.findall(r'<img [^>]*data-creative-id="([^"]+)"', page)


def test_report_shows_every_creative_with_embedded_thumbnails(
    embedded: Embedded, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    summary = build_report(db_url=embedded.db, store=embedded.store, out=out)
    page = out.read_text()
    ids = _img_ids(page)
    assert len(ids) == len(set(ids)) and set(ids) == _creative_ids(embedded.db)
    assert summary.creatives_shown == summary.creatives_total == len(ids)
    assert summary.missing_images == 0
    # The local store defaults to data: thumbnails, each linking to the full file.
    assert page.count('src="data:image/webp;base64,') == len(ids)
    assert page.count('href="file://') == len(ids)


def test_campaign_filter_and_limit(embedded: Embedded, tmp_path: Path) -> None:
    camp = "rep-camp-recommendation"
    out = tmp_path / "one.html"
    build_report(
        db_url=embedded.db,
        store=embedded.store,
        out=out,
        campaign=camp,
        embed=False,
        with_plots=False,
    )
    page = out.read_text()
    assert set(_img_ids(page)) == _creative_ids(embedded.db, camp)
    assert "Demo cart" not in page
    assert page.count('src="file://') == len(_creative_ids(embedded.db, camp))

    build_report(
        db_url=embedded.db, store=embedded.store, out=out, limit=1, embed=False, with_plots=False
    )
    page = out.read_text()
    with session_scope(embedded.db) as s:
        campaigns = s.execute(select(func.count(func.distinct(Creative.campaign_id)))).scalar()
    assert len(_img_ids(page)) == campaigns
    assert "(1 shown)" in page

    with pytest.raises(LookupError):
        build_report(db_url=embedded.db, store=embedded.store, out=out, campaign="nope")


def test_hostile_title_is_escaped_in_report_and_browser_dom(
    embedded: Embedded, tmp_path: Path
) -> None:
    out = tmp_path / "evil.html"
    build_report(
        db_url=embedded.db,
        store=embedded.store,
        out=out,
        campaign="rep-camp-hostile",
        thumb_px=64,
        with_plots=False,
    )
    page = out.read_text()
    assert "<script" not in page.lower() and "onerror=" not in page.replace("onerror=alert", "")
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; Spring" in page
    if chromium_binary() is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    dom = dump_dom(out)
    # The browser parsed the title as text: no script element, no element carrying onerror.
    assert "<script" not in dom.lower()
    assert not re.search(r"<img[^>]*onerror", dom, re.I)
    assert HOSTILE_TITLE.split(">")[0].replace("<", "&lt;") in dom
    assert HOSTILE_CAMPAIGN.split(" ")[0].replace("<", "&lt;") in dom


def test_report_renders_in_headless_chromium(embedded: Embedded, tmp_path: Path) -> None:
    if chromium_binary() is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    out = tmp_path / "r.html"
    build_report(db_url=embedded.db, store=embedded.store, out=out)
    shot = screenshot(out, tmp_path / "shot.png", size="1200,1600")
    with Image.open(shot) as img:
        assert img.size == (1200, 1600)
        # A rendered page, not a blank one: the dark header and plot/thumbnail colours.
        colours = img.convert("RGB").resize((120, 160)).getcolors(maxcolors=120 * 160)
    assert colours is not None and len(colours) > 50


def test_sqlite_analytics_migrations_are_noops_both_ways(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    upgrade(db)  # head: 0006 (the chain is 0001 -> 0002 -> 0005 -> 0004 -> 0003 -> 0006)
    with session_scope(db) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        assert (
            s.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'view'")).scalar() == 0
        )
    downgrade(db, "0003")
    with session_scope(db) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
    downgrade(db, "0004")
    with session_scope(db) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    downgrade(db, "0002")
    with session_scope(db) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    downgrade(db, "0001")
    with session_scope(db) as s:
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        assert s.execute(text("SELECT count(*) FROM creatives")).scalar() == 0
    upgrade(db)
    downgrade(db, "base")
    dispose_engines()
