"""Analyst access against the real Postgres and SeaweedFS S3: views, the read-only role, and the
report with presigned image URLs rendered in headless Chromium."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from shared.analytics.report import build_report
from shared.analytics.roles import RoleError, drop_analyst, grant_analyst, verify_read_only
from shared.db.engine import dispose_engines
from shared.db.migrate import downgrade, upgrade
from shared.db.worker_role import drop_worker, grant_worker
from shared.storage import ObjectStore, open_store
from tests.conftest import set_env
from tests.support.services import SeaweedS3, postgres_database
from tests.unit.analytics.chromium import chromium_binary, screenshot
from tests.unit.analytics.helpers import populate

pytestmark = pytest.mark.integration

VIEWS = ("campaign_summary", "creatives", "daily", "model_summary", "scores")
# Migrations 0005 (the feedback loop) and 0004 (review); their own tests read these as the
# analyst role.
ALL_VIEWS = VIEWS + ("ctr_by_model", "ctr_by_segment", "ctr_by_style", "ctr_creatives",
                     "ctr_daily", "feedback_rejections", "retirements", "serving_plan",
                     "review_decisions", "review_rules")
RAW = ("campaigns", "events", "creatives", "scores", "model_versions", "rejected_events")
UPDATABLE = ("name", "status", "prompt", "value", "name", "reason")  # a column of each RAW table


@dataclass
class Populated:
    url: str  # SQLAlchemy URL
    dsn: str  # psycopg conninfo for the same database
    store: ObjectStore
    storage_url: str


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def populated(seaweed: SeaweedS3, tiny_runtime: object) -> Iterator[Populated]:
    """One migrated database with real creatives in a private S3 bucket, for the whole module."""
    with postgres_database() as url:
        upgrade(url)
        storage_url = seaweed.url(f"an{uuid.uuid4().hex[:12]}")
        store = open_store(storage_url)
        store.ensure_bucket()
        populate(url, store, tiny_runtime, prefix="pg")
        yield Populated(url, _dsn(url), store, storage_url)
        dispose_engines()


@pytest.fixture
def role(populated: Populated) -> Iterator[str]:
    """A unique role name (roles are cluster-global), dropped afterwards."""
    name = f"adgen_analyst_t{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        drop_analyst(conn, name)


def _grant(dsn: str, role: str, **kw: object) -> object:
    with psycopg.connect(dsn) as conn:
        return grant_analyst(conn, role, **kw)  # type: ignore[arg-type]


def _as_role(dsn: str, role: str, statement: str) -> list[tuple] | Exception:
    """Run one statement under SET ROLE; the rows, or the error it raised."""
    with psycopg.connect(dsn) as conn:
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        try:
            cur = conn.execute(statement)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            return exc
        finally:
            conn.rollback()


def _query(dsn: str, statement: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


# --- views ------------------------------------------------------------------------------------


def test_creatives_view_has_one_row_per_creative_with_scores_pivoted(populated: Populated
                                                                     ) -> None:
    dsn = populated.dsn
    n_raw = _query(dsn, "SELECT count(*) FROM creatives")[0][0]
    n_view, n_distinct = _query(
        dsn, "SELECT count(*), count(DISTINCT creative_id) FROM analytics.creatives")[0]
    assert n_raw == n_view == n_distinct > 0
    # Every score row is in the JSONB object, and the typed columns agree with it.
    mismatches = _query(dsn, """
        SELECT c.creative_id FROM analytics.creatives c
        WHERE (SELECT count(*) FROM scores s WHERE s.creative_id = c.creative_id)
              <> (SELECT count(*) FROM jsonb_object_keys(c.scores))
           OR c.alignment IS DISTINCT FROM (c.scores ->> 'alignment')::float8
           OR c.realism IS DISTINCT FROM (c.scores ->> 'realism')::float8""")
    assert mismatches == []
    row = _query(dsn, """SELECT campaign_name, advertiser_id, model_name, scores ? 'psnr_ref',
                                 sharpness, headline, total_ms > 0, audience_segment
                          FROM analytics.creatives WHERE campaign_id = 'pg-camp-hostile'
                          LIMIT 1""")[0]
    assert row[0].startswith("<img") and row[1] == "adv-demo" and row[2]
    assert row[3] is True and row[4] is None  # unknown metric absent from typed column
    assert "<script>" in row[5] and row[6] is True and row[7] == "sporty"


def test_summaries(populated: Populated) -> None:
    dsn = populated.dsn
    rows = _query(dsn, """SELECT campaign_id, events, events_done, creatives, servable_creatives,
                                 servable_share, mean_scores ->> 'alignment', mean_alignment,
                                 p50_processing_ms, p95_processing_ms
                          FROM analytics.campaign_summary ORDER BY campaign_id""")
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {f"pg-camp-{t}" for t in
                          ("hostile", "product_display", "cart", "recommendation", "brand")}
    cart = by_id["pg-camp-cart"]
    assert cart[1:5] == (1, 1, 2, 1) and cart[5] == pytest.approx(0.5)
    assert float(cart[6]) == pytest.approx(cart[7]) == pytest.approx(0.35)
    assert 0 < cart[8] <= cart[9]
    model = _query(dsn, """SELECT creatives, campaigns, mean_scores ? 'psnr_ref', report_metrics,
                                  servable_share FROM analytics.model_summary""")
    assert len(model) == 1
    assert model[0][:4] == (10, 5, True, {}) and model[0][4] == pytest.approx(0.8)
    # The offline evaluation report's numbers, typed when they are numbers.
    report = '{"eval": {"fid": 41.5, "kid": 0.02, "r_precision": null}, "samples": 500}'
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE model_versions SET metrics = %s::jsonb", (report,))
    try:
        assert _query(dsn, "SELECT report_fid, report_kid, report_r_precision, report_samples "
                           "FROM analytics.model_summary") == [(41.5, 0.02, None, 500)]
    finally:
        with psycopg.connect(dsn) as conn:
            conn.execute("UPDATE model_versions SET metrics = NULL")
    daily = _query(dsn, "SELECT sum(creatives), count(*) FROM analytics.daily")[0]
    assert daily == (10, 4)  # one UTC day (unless run across midnight), four ad types


# --- analyst role -----------------------------------------------------------------------------


def test_analyst_reads_views_and_cannot_write_anywhere(populated: Populated, role: str) -> None:
    result = _grant(populated.dsn, role)
    assert result.created and not result.login and result.problems == []  # type: ignore[attr-defined]
    assert sorted(result.views) == sorted(ALL_VIEWS)  # type: ignore[attr-defined]
    for view in VIEWS:
        rows = _as_role(populated.dsn, role, f"SELECT count(*) FROM analytics.{view}")
        assert isinstance(rows, list) and rows[0][0] > 0, (view, rows)
    # The views are not updatable, so Postgres refuses these before it checks privileges;
    # `problems == []` above already says the role holds no write privilege on them either.
    for statement in ("INSERT INTO analytics.creatives (creative_id) VALUES ('x')",
                      "UPDATE analytics.creatives SET prompt = 'x'",
                      "DELETE FROM analytics.scores"):
        err = _as_role(populated.dsn, role, statement)
        assert isinstance(err, psycopg.errors.InsufficientPrivilege
                          | psycopg.errors.ObjectNotInPrerequisiteState), (statement, err)
    forbidden = [
        "SELECT * FROM public.creatives",
        "CREATE VIEW analytics.mine AS SELECT 1",
        "CREATE TABLE public.mine (x int)",
        "CREATE SCHEMA mine",
        "TRUNCATE public.scores",
        "SELECT setval('rejected_events_id_seq', 99)",
    ]
    forbidden += [f"INSERT INTO public.{t} DEFAULT VALUES" for t in RAW]
    forbidden += [f"UPDATE public.{t} SET {c} = {c}" for t, c in zip(RAW, UPDATABLE, strict=True)]
    forbidden += [f"DELETE FROM public.{t}" for t in RAW]
    for statement in forbidden:
        err = _as_role(populated.dsn, role, statement)
        assert isinstance(err, psycopg.errors.InsufficientPrivilege), (statement, err)
    # Nothing changed.
    assert _query(populated.dsn, "SELECT count(*) FROM creatives")[0][0] == 10


def test_grant_is_idempotent_login_raw_tables_and_future_views(populated: Populated,
                                                               role: str) -> None:
    _grant(populated.dsn, role)
    again = _grant(populated.dsn, role, password="s3cret-Analyst", raw_tables=True)
    assert not again.created and again.login and again.problems == []  # type: ignore[attr-defined]
    assert isinstance(_as_role(populated.dsn, role, "SELECT count(*) FROM public.events"), list)
    assert isinstance(_as_role(populated.dsn, role, "DELETE FROM public.events"),
                      psycopg.errors.InsufficientPrivilege)
    # Logging in as the role (trust auth on this box): sessions default to read-only.
    conninfo = psycopg.conninfo.make_conninfo(populated.dsn, user=role,
                                              password="s3cret-Analyst")
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SELECT count(*) FROM analytics.creatives").fetchone() == (10,)
    # Back to views only: raw access is taken away again.
    _grant(populated.dsn, role)
    assert isinstance(_as_role(populated.dsn, role, "SELECT 1 FROM public.events LIMIT 1"),
                      psycopg.errors.InsufficientPrivilege)
    # A view a later migration adds (as the schema owner) is readable without re-granting.
    with psycopg.connect(populated.dsn) as conn:
        conn.execute("CREATE VIEW analytics.zz_future AS SELECT count(*) AS n FROM creatives")
    try:
        assert _as_role(populated.dsn, role, "SELECT n FROM analytics.zz_future") == [(10,)]
    finally:
        with psycopg.connect(populated.dsn) as conn:
            conn.execute("DROP VIEW analytics.zz_future")


ANALYST_PASSWORD = "s3cret-Analyst"
ONE_MB = "repeat('x', 1048576)::bytea"
# Finding 5: each statement an analyst logged in with `default_transaction_read_only = off`
# tried, or could try, to store something. All must fail on privileges, not on read-only.
ATTACKS = {
    "lo_from_bytea": f"SELECT lo_from_bytea(0, {ONE_MB})",
    "lo_create": "SELECT lo_create(0)",
    "lo_creat": "SELECT lo_creat(-1)",
    "lo_import": "SELECT lo_import('/etc/hostname')",
    "temp table": "CREATE TEMP TABLE stash (x bytea)",
    "pg_temp table": "CREATE TABLE pg_temp.stash (x bytea)",
    "temp sequence": "CREATE TEMP SEQUENCE stash",
    "table in public": "CREATE TABLE public.stash (x bytea)",
    "table in analytics": "CREATE TABLE analytics.stash (x bytea)",
    "unqualified table": "CREATE TABLE stash (x bytea)",
    "schema": "CREATE SCHEMA stash",
    "nextval": "SELECT nextval('public.rejected_events_id_seq')",
    "setval": "SELECT setval('public.rejected_events_id_seq', 99)",
    "insert": "INSERT INTO public.rejected_events (reason, payload, payload_bytes) "
              "VALUES ('x', 'x', 1)",
    "update": "UPDATE public.campaigns SET name = 'x'",
    "delete": "DELETE FROM public.scores",
    "copy in": "COPY public.campaigns FROM STDIN",
    "function": "CREATE FUNCTION public.stash() RETURNS int LANGUAGE sql AS 'SELECT 1'",
}


@pytest.fixture(scope="module")
def analyst(populated: Populated) -> Iterator[str]:
    """A LOGIN analyst role granted once for the module; its psycopg conninfo."""
    name = f"adgen_analyst_m{uuid.uuid4().hex[:10]}"
    result = _grant(populated.dsn, name, password=ANALYST_PASSWORD)
    assert result.problems == [], result.problems  # type: ignore[attr-defined]
    yield psycopg.conninfo.make_conninfo(populated.dsn, user=name, password=ANALYST_PASSWORD)
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        drop_analyst(conn, name)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_analyst_cannot_write_even_with_read_only_off(analyst: str, populated: Populated,
                                                      attack: str) -> None:
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(ATTACKS[attack])  # type: ignore[arg-type]
    assert _query(populated.dsn, "SELECT count(*) FROM pg_largeobject_metadata") == [(0,)]


def test_verify_reports_public_grants_that_let_a_role_write(populated: Populated,
                                                             role: str) -> None:
    """The check itself: give PUBLIC back its defaults and each shows up as a problem."""
    _grant(populated.dsn, role)
    db = _query(populated.dsn, "SELECT current_database()")[0][0]
    restore = [f'GRANT TEMPORARY ON DATABASE "{db}" TO PUBLIC',
               "GRANT EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) TO PUBLIC",
               "GRANT CREATE ON SCHEMA public TO PUBLIC"]
    with psycopg.connect(populated.dsn) as conn:
        for statement in restore:
            conn.execute(statement)  # type: ignore[arg-type]
        problems = verify_read_only(conn, role)
        conn.rollback()
    assert any("temporary tables" in p for p in problems), problems
    assert any("lo_from_bytea" in p for p in problems), problems
    assert "can CREATE in schema public" in problems


def test_stashing_data_in_role_settings_is_reported(populated: Populated, role: str) -> None:
    """The one write PostgreSQL lets every login role make: its own role settings. Not
    preventable without a superuser per session; detected instead."""
    _grant(populated.dsn, role, password=ANALYST_PASSWORD)
    login = psycopg.conninfo.make_conninfo(populated.dsn, user=role, password=ANALYST_PASSWORD)
    with psycopg.connect(login, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.execute(psycopg.sql.SQL("ALTER ROLE {} SET search_path = {}").format(
            psycopg.sql.Identifier(role), psycopg.sql.Literal("x" * 100_000)))
    with psycopg.connect(populated.dsn) as conn:
        problems = verify_read_only(conn, role)
    assert any("role settings hold" in p for p in problems), problems


def test_worker_role_still_writes_after_analyst_hardening(populated: Populated,
                                                          role: str) -> None:
    """The PUBLIC revokes are database-wide: a worker role must not need any of them."""
    _grant(populated.dsn, role)
    worker = f"adgen_worker_t{uuid.uuid4().hex[:10]}"
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        grant_worker(conn, worker, password="w0rker-pass")
    try:
        login = psycopg.conninfo.make_conninfo(populated.dsn, user=worker, password="w0rker-pass")
        with psycopg.connect(login) as conn:
            conn.execute("INSERT INTO campaigns (id, advertiser_id, name) VALUES ('w', 'a', 'n')")
            conn.execute("INSERT INTO rejected_events (reason, payload, payload_bytes) "
                         "VALUES ('r', 'p', 1)")
            conn.execute("UPDATE campaigns SET name = 'm' WHERE id = 'w'")
            conn.execute("DELETE FROM campaigns WHERE id = 'w'")
            conn.rollback()
    finally:
        with psycopg.connect(populated.dsn, autocommit=True) as conn:
            drop_worker(conn, worker)


def test_refuses_existing_role_with_elevated_attributes(populated: Populated, role: str) -> None:
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE ROLE {} CREATEDB").format(
            psycopg.sql.Identifier(role)))
    with pytest.raises(RoleError, match="elevated"):
        _grant(populated.dsn, role)
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("ALTER ROLE {} NOCREATEDB").format(
            psycopg.sql.Identifier(role)))


# --- report over S3 ---------------------------------------------------------------------------


def test_report_uses_presigned_urls_that_work_without_credentials(populated: Populated,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    summary = build_report(db_url=populated.url, store=populated.store, out=out, expiry_s=600,
                           with_plots=False)
    page = out.read_text()
    srcs = re.findall(r'<img src="(http://[^"]+)"[^>]*data-creative-id="([^"]+)"', page)
    assert len(srcs) == summary.creatives_total == 10
    url = srcs[0][0].replace("&amp;", "&")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - local test server
        assert resp.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(urllib.error.HTTPError) as info:  # the bucket itself stays private
        urllib.request.urlopen(url.split("?")[0], timeout=10)  # noqa: S310
    assert info.value.code in (401, 403)
    assert "image links expire" in page


def test_report_cli_and_grant_cli(populated: Populated, adgen_env: dict[str, str],
                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                  role: str) -> None:
    import typer

    from workers.cli.report_cmd import grant_analyst as grant_cmd
    from workers.cli.report_cmd import report

    set_env(monkeypatch, adgen_env, ADGEN_DATABASE_URL=populated.url,
            ADGEN_STORAGE_URL=populated.storage_url, ADGEN_PRESIGN_EXPIRY_S="900")
    app = typer.Typer()
    app.command("report")(report)
    app.command("grant-analyst")(grant_cmd)
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(app, ["report", "--campaign", "pg-camp-cart", "--out", str(out),
                                   "--embed", "--thumb-px", "96"])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert page.count('src="data:image/webp') == 2 and "X-Amz-Expires=900" in page
    res = CliRunner().invoke(app, ["report", "--out", str(out), "--expiry", "5"])
    assert res.exit_code != 0 and "expiry" in res.output
    res = CliRunner().invoke(app, ["grant-analyst", "--role", role])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["grant-analyst", "--role", "Robert'); DROP"])
    assert res.exit_code != 0 and "invalid role name" in res.output


def test_report_with_presigned_images_renders_in_chromium(populated: Populated,
                                                          tmp_path: Path) -> None:
    if chromium_binary() is None:
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    out = tmp_path / "report.html"
    build_report(db_url=populated.url, store=populated.store, out=out, embed=False)
    shot = screenshot(out, tmp_path / "shot.png", size="1400,2000")
    with Image.open(shot) as img:
        colours = img.convert("RGB").resize((140, 200)).getcolors(maxcolors=140 * 200)
    assert colours is not None and len(colours) > 50


# --- migrations -------------------------------------------------------------------------------


def test_postgres_migrations_upgrade_downgrade_cleanly(pg_url: str) -> None:
    dsn = _dsn(pg_url)
    views = "SELECT count(*) FROM information_schema.views WHERE table_schema = 'analytics'"
    assert _query(dsn, views) == [(len(ALL_VIEWS),)]
    downgrade(pg_url, "0001")
    assert _query(dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'analytics'") == [(0,)]
    assert _query(dsn, "SELECT version_num FROM alembic_version") == [("0001",)]
    upgrade(pg_url)
    assert _query(dsn, views) == [(len(ALL_VIEWS),)]
    downgrade(pg_url, "base")
    assert _query(dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                       "AND tablename <> 'alembic_version'") == [(0,)]
    upgrade(pg_url, "0002")
    dispose_engines()
