"""The review app on the embedded defaults (SQLite + local file store) through TestClient."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shared.config import Settings, get_settings
from shared.db.engine import dispose_engines, get_engine
from shared.db.migrate import upgrade
from shared.review.users import add_user
from shared.storage import open_store
from shared.web.app import create_app
from tests.conftest import set_env
from tests.support.review_factory import Spec, add_creatives

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def web_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ADGEN_HOME with the schema, three users and three creatives, built once (migrations
    and argon2 hashing are the slow part) and copied for each test."""
    home = tmp_path_factory.mktemp("web-home")
    settings = Settings(home=home)
    upgrade(settings.resolved_database_url)
    store = open_store(settings.resolved_storage_url)
    store.ensure_bucket()
    with Session(get_engine(settings.resolved_database_url)) as s:
        for name, role in (("rita", "reviewer"), ("vic", "viewer"), ("ada", "admin")):
            add_user(session=s, username=name, password=PASSWORD, role=role)
        add_creatives(
            s,
            [
                Spec(headline='<b>Bold</b> & "quoted"'),
                Spec(size="728x90"),
                Spec(
                    campaign="camp-b",
                    segment="family",
                    servable=False,
                    reason="alignment 0.10 < 0.20",
                    alignment=0.1,
                ),
            ],
            store=store,
        )
        s.commit()
    dispose_engines()
    return home


@pytest.fixture
def web_env(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, web_home_template: Path
) -> Iterator[dict[str, str]]:
    home = Path(adgen_env["ADGEN_HOME"])
    shutil.copytree(web_home_template, home)
    set_env(monkeypatch, adgen_env, ADGEN_WEB_LOGIN_MAX_FAILURES="3")
    yield adgen_env
    dispose_engines()


@pytest.fixture
def client(web_env: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(get_settings())) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> str:
    """Logs in; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    resp = client.post("/login", data={"username": user, "password": password, "csrf_token": token})
    assert resp.status_code == 200 and resp.url.path == "/queue", resp.text[-1500:]
    return csrf_of(resp.text)
