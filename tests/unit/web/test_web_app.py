"""The review app over HTTP on the embedded defaults: auth, roles, CSRF, decisions, filters,
escaping, bulk approve, admin pages. (The browser tests in tests/integration/test_review_browser.py
drive the same app in Chromium against Postgres + S3.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.config import Settings, get_settings
from shared.db.engine import get_engine
from shared.db.models import Creative
from shared.review.models import CreativeDecision
from shared.web.secret import SecretMissing, session_secret
from tests.unit.web.conftest import PASSWORD, csrf_of, login

FETCH = {"X-Requested-With": "fetch"}


def _ids(client: TestClient, query: str = "") -> list[str]:
    html = client.get(f"/queue?{query}").text
    return re.findall(r'<article class="card[^"]*" data-id="([^"]+)"', html)


def _decisions() -> int:
    with Session(get_engine(get_settings().resolved_database_url)) as s:
        return int(s.scalar(select(func.count()).select_from(CreativeDecision)) or 0)


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/queue", "/performance", "/audit", "/admin/users"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    with Session(get_engine(get_settings().resolved_database_url)) as s:
        cid = s.scalars(select(Creative.creative_id)).first()
    assert client.get(f"/images/{cid}", follow_redirects=False).status_code == 303
    assert (
        client.post(
            "/decisions", data={"creative_id": cid, "decision": "approve"}, headers=FETCH
        ).status_code
        == 403
    )  # no CSRF token before the login check


def test_wrong_password_then_rate_limited(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(3):
        resp = client.post(
            "/login", data={"username": "rita", "password": "wrong password!", "csrf_token": token}
        )
        assert resp.status_code == 401 and "Wrong username or password" in resp.text
    resp = client.post(
        "/login", data={"username": "rita", "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0
    assert client.get("/queue", follow_redirects=False).status_code == 303  # still logged out


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": "rita", "password": PASSWORD})
    assert resp.status_code == 403


def test_cookie_and_headers(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    resp = client.post(
        "/login",
        data={"username": "rita", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "adgen_session=" in cookie
    resp = client.get("/queue")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["referrer-policy"] == "no-referrer"


def test_tampered_session_cookie_is_ignored(client: TestClient) -> None:
    login(client, "rita")
    value = client.cookies.get("adgen_session")
    assert value
    payload, _, signature = value.rpartition(".")
    client.cookies.clear()
    client.cookies.set("adgen_session", f"{payload}.{signature[::-1]}")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set("adgen_session", value)  # the untouched cookie still works
    assert client.get("/queue", follow_redirects=False).status_code == 200


def test_titles_show_as_text(client: TestClient) -> None:
    login(client, "rita")
    html = client.get("/queue").text
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &#34;quoted&#34;" in html
    assert "<b>Bold</b>" not in html


def test_reviewer_decides_and_the_audit_shows_it(client: TestClient) -> None:
    token = login(client, "rita")
    ids = _ids(client)
    assert len(ids) == 3
    headers = {**FETCH, "X-CSRF-Token": token}
    resp = client.post(
        "/decisions", data={"creative_id": ids[0], "decision": "approve"}, headers=headers
    )
    assert resp.status_code == 200 and resp.json()["state"] == "approved"
    resp = client.post(
        "/decisions", data={"creative_id": ids[1], "decision": "reject"}, headers=headers
    )
    assert resp.status_code == 422 and "reasons" in resp.text  # a reason is required
    resp = client.post(
        "/decisions",
        headers=headers,
        data={
            "creative_id": ids[1],
            "decision": "reject",
            "reason_code": "off_brand",
            "reason_text": "<i>logo</i> colour",
        },
    )
    assert resp.json()["state"] == "rejected"
    assert _ids(client) == [ids[2]]  # awaiting review: only the undecided one
    assert _ids(client, "status=approved") == [ids[0]]
    assert _ids(client, "status=rejected") == [ids[1]]
    page = client.get(f"/creatives/{ids[1]}").text
    assert "rita" in page and "Off brand" in page and "&lt;i&gt;logo&lt;/i&gt; colour" in page
    resp = client.post(
        "/decisions", data={"creative_id": ids[1], "decision": "undo"}, headers=headers
    )
    assert resp.json()["state"] == "pending"
    assert "(undone)" in client.get("/audit").text
    assert _decisions() == 3
    # The no-JavaScript form path: a plain POST redirects back.
    resp = client.post(
        "/decisions",
        data={
            "creative_id": ids[2],
            "decision": "approve",
            "csrf_token": token,
            "back": "/queue?status=all",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/queue?status=all"
    assert (
        client.post(
            "/decisions", headers=headers, data={"creative_id": ids[0], "decision": "undo"}
        ).json()["state"]
        == "pending"
    )
    assert (
        client.post(
            "/decisions", headers=headers, data={"creative_id": ids[0], "decision": "undo"}
        ).status_code
        == 409
    )


def test_forged_posts_are_refused(client: TestClient) -> None:
    token = login(client, "rita")
    cid = _ids(client)[0]
    for extra in ({}, {"csrf_token": "forged" * 8}, {"csrf_token": ""}):
        resp = client.post(
            "/decisions",
            data={"creative_id": cid, "decision": "approve", **extra},
            follow_redirects=False,
        )
        assert resp.status_code == 403
    resp = client.post("/queue/approve", data={"expected": "3"})
    assert resp.status_code == 403
    assert _decisions() == 0
    assert token  # the real token was available all along; it just was not sent


def test_viewer_cannot_decide(client: TestClient) -> None:
    token = login(client, "vic")
    html = client.get("/queue").text
    cid = _ids(client)[0]
    assert "Approve <kbd>" not in html and "reject-dialog" not in html
    resp = client.post(
        "/decisions",
        data={"creative_id": cid, "decision": "approve"},
        headers={**FETCH, "X-CSRF-Token": token},
    )
    assert resp.status_code == 403
    assert (
        client.post(
            "/queue/approve", data={"expected": "3", "csrf_token": token}, follow_redirects=False
        ).status_code
        == 403
    )
    assert client.get("/admin/users").status_code == 403
    assert _decisions() == 0


def test_filters(client: TestClient) -> None:
    login(client, "rita")
    assert len(_ids(client, "campaign=camp-b")) == 1
    assert len(_ids(client, "servable=false")) == 1
    assert len(_ids(client, "servable=true&size=728x90")) == 1
    assert len(_ids(client, "segment=family")) == 1
    assert len(_ids(client, "min_alignment=0.3")) == 2
    assert len(_ids(client, "max_alignment=0.3&min_realism=0.5")) == 1
    assert len(_ids(client, "model=sha256:aaaaaaaaaaaa&ad_type=product_display")) == 3
    assert len(_ids(client, "campaign=nope")) == 0
    assert client.get("/queue?min_alignment=abc").status_code == 422
    assert client.get("/queue?status=everything").status_code == 422
    html = client.get("/queue?servable=false").text
    assert "alignment 0.10 &lt; 0.20" in html  # the gate's reason on the card


def test_bulk_approve_of_the_filtered_set(client: TestClient) -> None:
    token = login(client, "rita")
    data = {"csrf_token": token, "campaign": "camp-a"}
    resp = client.post("/queue/approve", data={**data, "expected": "1"})
    assert resp.status_code == 409  # two match now, the reviewer confirmed one
    first, second = _ids(client, "campaign=camp-a")
    client.post(
        "/decisions",
        headers={**FETCH, "X-CSRF-Token": token},
        data={"creative_id": first, "decision": "reject", "reason_code": "layout"},
    )
    # Even with status=all in the form, a person's rejection is not overridden.
    resp = client.post("/queue/approve", data={**data, "status": "all", "expected": "1"})
    assert resp.status_code == 200 and "approved 1" in resp.text
    assert _ids(client, "status=approved") == [second]
    assert _ids(client, "status=rejected") == [first]
    assert _ids(client) == _ids(client, "campaign=camp-b")


def test_redirect_targets_stay_on_the_site() -> None:
    from shared.web.security import safe_next

    for bad in (None, "", "https://evil.example/", "//evil.example", "/\\evil.example"):
        assert safe_next(bad) == "/queue"
    assert safe_next("/queue?status=all") == "/queue?status=all"


def test_images_through_the_authenticated_route(client: TestClient) -> None:
    login(client, "vic")
    html = client.get("/queue").text
    src = re.search(r'<img src="(/images/[^"]+)"', html)
    assert src
    resp = client.get(src.group(1))
    assert resp.status_code == 200 and resp.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/images/no-such").status_code == 404


def test_admin_manages_users_and_rules(client: TestClient) -> None:
    token = login(client, "ada")
    resp = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "newbie", "password": "short", "role": "viewer"},
    )
    assert resp.status_code == 422
    resp = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "newbie",
            "password": "long enough pw",
            "role": "viewer",
        },
    )
    assert resp.status_code == 200 and "newbie" in resp.text
    assert (
        client.post(
            "/admin/users/ada", data={"csrf_token": token, "role": "viewer", "active": "true"}
        ).status_code
        == 422
    )
    resp = client.post(
        "/admin/rules/camp-a",
        data={
            "csrf_token": token,
            "auto_approve": "true",
            "require_servable": "true",
            "min_alignment": "0.4",
        },
    )
    assert resp.status_code == 200
    html = client.get("/queue?campaign=camp-a").text
    assert html.count('class="card state-auto"') == 2  # alignment 0.5 >= 0.4, servable
    assert (
        client.post(
            "/admin/rules/camp-a", data={"csrf_token": token, "min_alignment": "2"}
        ).status_code
        == 422
    )


def test_disabled_user_loses_access_on_the_next_request(client: TestClient) -> None:
    login(client, "rita")
    admin = TestClient(client.app)
    token = login(admin, "ada")
    admin.post("/admin/users/rita", data={"csrf_token": token, "role": "reviewer"})
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_web_secret_rules(tmp_path: object) -> None:
    with pytest.raises(SecretMissing):
        session_secret(Settings(database_url="postgresql://u:p@db.example/x"))
    with pytest.raises(ValueError, match="web_secret"):
        Settings(database_url="postgresql://db.example/x", web_secret="changeme")
    Settings(database_url="postgresql://db.example/x", web_secret="x" * 32)


def test_performance_page_without_feedback_yet(client: TestClient) -> None:
    login(client, "vic")
    html = client.get("/performance").text
    assert 'id="campaigns"' in html and "Campaign camp-a" in html
    assert "No impressions recorded yet." in html
    assert client.get("/performance/ctr.png").status_code == 204
    assert client.get("/performance?campaign=camp-a").status_code == 200
