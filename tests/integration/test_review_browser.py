"""The review app in headless Chromium (Debian's, driven by Playwright) against a real
`adgen web` process, PostgreSQL and the SeaweedFS S3 server: log in, filter, decide by keyboard,
see the audit row and the serving plan change; a viewer cannot decide; forged posts fail;
HTML in titles shows as text; no console errors."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db.engine import dispose_engines, get_engine
from shared.feedback.models import ServingPlanRow
from shared.feedback.service import refresh_serving
from shared.review.models import CreativeDecision
from shared.review.users import add_user
from shared.storage import open_store
from tests.conftest import set_env
from tests.support.review_factory import Spec, add_creatives
from tests.support.services import SeaweedS3
from tests.support.web import WebProcess, chromium, chromium_path, log_in, start_web

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(chromium_path() is None, reason="Debian chromium missing"),
]
PASSWORD = "correct horse battery"
HOSTILE = '<b>Bold</b> & "quoted" <img src=x onerror=alert(1)>'


@pytest.fixture
def review_app(
    adgen_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
    seaweed: SeaweedS3,
    tmp_path: Path,
) -> Iterator[tuple[WebProcess, list[str]]]:
    set_env(
        monkeypatch,
        adgen_env,
        ADGEN_DATABASE_URL=pg_url,
        ADGEN_STORAGE_URL=seaweed.url(f"r{uuid.uuid4().hex[:12]}"),
        ADGEN_WEB_SECRET=secrets.token_urlsafe(48),
    )
    settings = get_settings()
    store = open_store(settings.resolved_storage_url)
    store.ensure_bucket()
    with Session(get_engine(pg_url)) as s:
        for name, role in (("rita", "reviewer"), ("vic", "viewer")):
            add_user(session=s, username=name, password=PASSWORD, role=role)
        # Created oldest first; the queue shows newest first.
        ids = add_creatives(
            s,
            [
                Spec(
                    campaign="camp-b", servable=False, reason="alignment 0.10 < 0.20", alignment=0.1
                ),
                Spec(campaign="camp-a", segment="family"),
                Spec(campaign="camp-a", size="728x90"),
                Spec(campaign="camp-a", headline=HOSTILE),
            ],
            store=store,
        )
        s.commit()
    web = start_web(adgen_env, tmp_path / "web.log")
    yield web, ids[::-1]  # newest first, as on the page
    web.stop()
    dispose_engines()


def _rows(url: str) -> list[tuple[str, str, str | None, str, int | None]]:
    with Session(get_engine(url)) as s:
        return [
            (r.creative_id, r.decision, r.reason_code, r.actor, r.undoes_id)
            for r in s.scalars(select(CreativeDecision).order_by(CreativeDecision.id))
        ]


def _plan(url: str) -> dict[str, float]:
    with Session(get_engine(url)) as s:
        return {r.creative_id: r.probability for r in s.scalars(select(ServingPlanRow))}


def _refresh() -> None:
    refresh_serving(
        settings=get_settings(), retire_losers=False, seed=0, publish=lambda _event: None
    )


def _watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _badge(page: Any, cid: str) -> Any:
    return page.locator(f'.card[data-id="{cid}"] .badge')


def test_reviewer_filters_decides_by_keyboard_and_the_plan_follows(
    review_app: tuple[WebProcess, list[str]], pg_url: str
) -> None:
    web, ids = review_app
    hostile, banner, family, _other_campaign = ids
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = _watch(page)
        log_in(page, web.url, "rita", PASSWORD)
        assert page.locator(".card").count() == 4
        # Presigned S3 URLs load in the browser (the CSP allows the store's origin).
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        assert page.evaluate(
            "Array.from(document.querySelectorAll('.card img')).every(i => i.naturalWidth > 0)"
        )
        # HTML in a title is text, not markup.
        headline = page.locator(f'.card[data-id="{hostile}"] .headline')
        assert headline.text_content() == HOSTILE
        assert page.locator(".headline b, .headline img").count() == 0

        page.select_option('select[name="campaign"]', "camp-a")
        page.click('.filters button[type="submit"]')
        page.wait_for_url("**campaign=camp-a**")
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator(".card").count() == 3

        _refresh()
        assert not set(_plan(pg_url)) & set(ids)  # nothing approved: nothing in the plan

        page.keyboard.press("a")  # approve the first (selected) card; selection moves on
        _badge(page, hostile).filter(has_text="approved").wait_for()
        page.keyboard.press("r")
        page.locator("#reject-dialog[open]").wait_for()
        page.keyboard.press("3")  # image_quality
        page.keyboard.press("Enter")
        _badge(page, banner).filter(has_text="rejected").wait_for()
        page.keyboard.press("k")
        page.keyboard.press("u")  # undo the rejection
        _badge(page, banner).filter(has_text="pending").wait_for()
        page.keyboard.press("r")
        page.locator("#reject-dialog[open]").wait_for()
        page.keyboard.press("8")  # other: needs a note
        page.fill("#reject-dialog textarea", "price shown twice")
        page.click('#reject-dialog button[type="submit"]')
        _badge(page, banner).filter(has_text="rejected").wait_for()

        rows = _rows(pg_url)
        assert [(c, d, r, a) for c, d, r, a, _u in rows] == [
            (hostile, "approve", None, "rita"),
            (banner, "reject", "image_quality", "rita"),
            (banner, "undo", None, "rita"),
            (banner, "reject", "other", "rita"),
        ]
        assert rows[2][4] is not None

        # The audit trail on the creative's page.
        page.goto(f"{web.url}/creatives/{banner}")
        audit = page.locator("table.audit tbody")
        assert audit.locator("tr").count() == 3
        assert "price shown twice" in audit.locator("tr").nth(0).inner_text()
        assert "undo of #" in audit.locator("tr").nth(1).inner_text()
        assert "(undone)" in audit.locator("tr").nth(2).inner_text()

        # Only the approved creative enters the serving plan, and the page shows it.
        _refresh()
        plan = _plan(pg_url)
        assert plan.get(hostile, 0) > 0 and banner not in plan and family not in plan
        page.goto(f"{web.url}/performance?campaign=camp-a")
        row = page.locator(f'#creatives tr:has(a[href="/creatives/{hostile}"])')
        assert "%" in row.locator("td").nth(8).inner_text()
        banner_row = page.locator(f'#creatives tr:has(a[href="/creatives/{banner}"])')
        assert banner_row.locator("td").nth(8).inner_text() == "–"
        assert errors == [], errors


def test_viewer_cannot_decide(review_app: tuple[WebProcess, list[str]], pg_url: str) -> None:
    web, ids = review_app
    with chromium() as browser:
        page = browser.new_page()
        errors = _watch(page)
        log_in(page, web.url, "vic", PASSWORD)
        assert page.locator(".card").count() == 4
        assert page.locator("#reject-dialog").count() == 0
        assert page.locator(".actions").count() == 0
        page.keyboard.press("a")
        page.keyboard.press("r")
        assert errors == [], errors
        # Even a hand-made request with the session's valid CSRF token is refused server-side.
        status = page.evaluate(
            """async (cid) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch('/decisions', {method: 'POST', headers: {
                'X-CSRF-Token': token, 'X-Requested-With': 'fetch'},
                body: new URLSearchParams({creative_id: cid, decision: 'approve'})});
            return r.status; }""",
            ids[0],
        )
        assert status == 403
    assert _rows(pg_url) == []


def test_forged_posts_are_refused(review_app: tuple[WebProcess, list[str]], pg_url: str) -> None:
    web, ids = review_app
    with chromium() as browser:
        page = browser.new_page()
        log_in(page, web.url, "rita", PASSWORD)
        status = page.evaluate(
            """async (cid) => {
            const r = await fetch('/decisions', {method: 'POST',
                body: new URLSearchParams({creative_id: cid, decision: 'approve'})});
            return r.status; }""",
            ids[0],
        )
        assert status == 403
        # A form on the page without the token (as an injected or stale form would be).
        with page.expect_navigation():
            page.evaluate(
                """(cid) => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/decisions';
            for (const [k, v] of [['creative_id', cid], ['decision', 'approve']]) {
                const i = document.createElement('input');
                i.name = k; i.value = v; f.appendChild(i);
            }
            document.body.appendChild(f); f.submit(); }""",
                ids[1],
            )
        assert "CSRF" in page.content()
        # Another site's page posting to the app: no token, and no session cookie either.
        other = browser.new_page()
        other.set_content(f"""<form method="post" action="{web.url}/decisions">
            <input name="creative_id" value="{ids[2]}"><input name="decision" value="approve">
            </form>""")
        with other.expect_navigation():
            other.evaluate("document.forms[0].submit()")
        assert "CSRF" in other.content() or "Log in" in other.content()
    assert _rows(pg_url) == []
