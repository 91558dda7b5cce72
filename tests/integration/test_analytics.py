"""Analyst access against the real Postgres and SeaweedFS S3: views, the read-only role, and the
report with presigned image URLs rendered in headless Chromium."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
import typer
from PIL import Image
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from shared.analytics.queries import load_report_data
from shared.analytics.report import build_report
from shared.analytics.roles import RoleError, drop_analyst, grant_analyst, verify_read_only
from shared.analytics.views import POSTGRES
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import downgrade, upgrade
from shared.db.worker_role import drop_worker, grant_worker
from shared.pipeline import Context, handle_event_task
from shared.storage import ObjectStore, open_store
from tests.conftest import set_env
from tests.support.services import PG_ADMIN, SeaweedS3, postgres_database
from tests.unit.analytics.chromium import chromium_binary, screenshot
from tests.unit.analytics.helpers import populate

pytestmark = pytest.mark.integration

VIEWS = (
    "campaign_summary",
    "creatives",
    "daily",
    "event_problems",
    "events",
    "model_summary",
    "scores",
)
# Migrations 0005 (the feedback loop) and 0004 (review); their own tests read these as the
# analyst role.
ALL_VIEWS = VIEWS + (
    "ctr_by_model",
    "ctr_by_segment",
    "ctr_by_style",
    "ctr_creatives",
    "ctr_daily",
    "feedback_rejections",
    "retirements",
    "serving_plan",
    "review_decisions",
    "review_rules",
)
BAD_EVENT = '{"event_id": "pg-bad-1", "campaign": {"id": "pg-camp-cart"}, "products": []}'
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
        # One refused message through the real worker path: rejected events carry no campaign
        # id, so the views must find the campaign in the refused payload.
        ctx = Context.local(url, store, tiny_runtime, worker="analytics-test")  # type: ignore[arg-type]
        assert handle_event_task([BAD_EVENT], {}, ctx).status == "rejected"
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


def test_creatives_view_has_one_row_per_creative_with_scores_pivoted(populated: Populated) -> None:
    dsn = populated.dsn
    n_raw = _query(dsn, "SELECT count(*) FROM creatives")[0][0]
    n_view, n_distinct = _query(
        dsn, "SELECT count(*), count(DISTINCT creative_id) FROM analytics.creatives"
    )[0]
    assert n_raw == n_view == n_distinct > 0
    # Every score row is in the JSONB object, and the typed columns agree with it.
    mismatches = _query(
        dsn,
        """
        SELECT c.creative_id FROM analytics.creatives c
        WHERE (SELECT count(*) FROM scores s WHERE s.creative_id = c.creative_id)
              <> (SELECT count(*) FROM jsonb_object_keys(c.scores))
           OR c.alignment IS DISTINCT FROM (c.scores ->> 'alignment')::float8
           OR c.realism IS DISTINCT FROM (c.scores ->> 'realism')::float8""",
    )
    assert mismatches == []
    row = _query(
        dsn,
        """SELECT campaign_name, advertiser_id, model_name, scores ? 'psnr_ref',
                                 sharpness, headline, total_ms > 0, audience_segment
                          FROM analytics.creatives WHERE campaign_id = 'pg-camp-hostile'
                          LIMIT 1""",
    )[0]
    assert row[0].startswith("<img") and row[1] == "adv-demo" and row[2]
    assert row[3] is True and row[4] is None  # unknown metric absent from typed column
    assert "<script>" in row[5] and row[6] is True and row[7] == "sporty"


def test_summaries(populated: Populated) -> None:
    dsn = populated.dsn
    rows = _query(
        dsn,
        """SELECT campaign_id, events, events_done, creatives, servable_creatives,
                                 servable_share, mean_scores ->> 'alignment', mean_alignment,
                                 p50_processing_ms, p95_processing_ms
                          FROM analytics.campaign_summary ORDER BY campaign_id""",
    )
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {
        f"pg-camp-{t}" for t in ("hostile", "product_display", "cart", "recommendation", "brand")
    }
    cart = by_id["pg-camp-cart"]
    assert cart[1:5] == (2, 1, 2, 1) and cart[5] == pytest.approx(0.5)
    # Finding 6: the refused event counts for the campaign its payload named (was always 0).
    assert _query(
        dsn,
        "SELECT campaign_id, events_rejected, rejections "
        "FROM analytics.campaign_summary WHERE events_rejected > 0",
    ) == [("pg-camp-cart", 1, 1)]
    assert float(cart[6]) == pytest.approx(cart[7]) == pytest.approx(0.35)
    assert 0 < cart[8] <= cart[9]
    model = _query(
        dsn,
        """SELECT creatives, campaigns, mean_scores ? 'psnr_ref', report_metrics,
                                  servable_share FROM analytics.model_summary""",
    )
    assert len(model) == 1
    assert model[0][:4] == (10, 5, True, {}) and model[0][4] == pytest.approx(0.8)
    # The offline evaluation report's numbers, typed when they are numbers.
    report = '{"eval": {"fid": 41.5, "kid": 0.02, "r_precision": null}, "samples": 500}'
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE model_versions SET metrics = %s::jsonb", (report,))
    try:
        assert _query(
            dsn,
            "SELECT report_fid, report_kid, report_r_precision, report_samples "
            "FROM analytics.model_summary",
        ) == [(41.5, 0.02, None, 500)]
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
    assert _as_role(
        populated.dsn,
        role,
        "SELECT count(*) FROM analytics.event_problems WHERE status = 'rejected'",
    ) == [(1,)]
    # The views are not updatable, so Postgres refuses these before it checks privileges;
    # `problems == []` above already says the role holds no write privilege on them either.
    for statement in (
        "INSERT INTO analytics.creatives (creative_id) VALUES ('x')",
        "UPDATE analytics.creatives SET prompt = 'x'",
        "DELETE FROM analytics.scores",
    ):
        err = _as_role(populated.dsn, role, statement)
        assert isinstance(
            err, psycopg.errors.InsufficientPrivilege | psycopg.errors.ObjectNotInPrerequisiteState
        ), (statement, err)
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


def test_grant_is_idempotent_login_raw_tables_and_future_views(
    populated: Populated, role: str
) -> None:
    _grant(populated.dsn, role)
    again = _grant(populated.dsn, role, password="s3cret-Analyst", raw_tables=True)
    assert not again.created and again.login and again.problems == []  # type: ignore[attr-defined]
    assert isinstance(_as_role(populated.dsn, role, "SELECT count(*) FROM public.events"), list)
    assert isinstance(
        _as_role(populated.dsn, role, "DELETE FROM public.events"),
        psycopg.errors.InsufficientPrivilege,
    )
    # Logging in as the role (trust auth on this box): sessions default to read-only.
    conninfo = psycopg.conninfo.make_conninfo(populated.dsn, user=role, password="s3cret-Analyst")
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SELECT count(*) FROM analytics.creatives").fetchone() == (10,)
    # Back to views only: raw access is taken away again.
    _grant(populated.dsn, role)
    assert isinstance(
        _as_role(populated.dsn, role, "SELECT 1 FROM public.events LIMIT 1"),
        psycopg.errors.InsufficientPrivilege,
    )
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
def test_analyst_cannot_write_even_with_read_only_off(
    analyst: str, populated: Populated, attack: str
) -> None:
    with psycopg.connect(analyst, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(ATTACKS[attack])  # type: ignore[arg-type]
    assert _query(populated.dsn, "SELECT count(*) FROM pg_largeobject_metadata") == [(0,)]


def test_verify_reports_public_grants_that_let_a_role_write(
    populated: Populated, role: str
) -> None:
    """The check itself: give PUBLIC back its defaults and each shows up as a problem."""
    _grant(populated.dsn, role)
    db = _query(populated.dsn, "SELECT current_database()")[0][0]
    restore = [
        f'GRANT TEMPORARY ON DATABASE "{db}" TO PUBLIC',
        "GRANT EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) TO PUBLIC",
        "GRANT CREATE ON SCHEMA public TO PUBLIC",
    ]
    with psycopg.connect(populated.dsn) as conn:
        for statement in restore:
            conn.execute(statement)  # type: ignore[arg-type]
        problems = verify_read_only(conn, role)
        conn.rollback()
    assert any("temporary tables" in p for p in problems), problems
    assert any("lo_from_bytea" in p for p in problems), problems
    assert "can CREATE in schema public" in problems


def test_grant_by_a_non_superuser_owner_reports_what_only_a_superuser_may_revoke() -> None:
    """Production migrators are rarely superusers: grant-analyst revokes what the database owner
    may, reports the large-object functions (owned by the bootstrap superuser), and passes once a
    superuser ran the REVOKE it printed."""
    owner = f"adgen_owner_t{uuid.uuid4().hex[:8]}"
    analyst = f"adgen_analyst_o{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN PASSWORD 'owner-pw' CREATEROLE")  # type: ignore[arg-type]
    try:
        with postgres_database() as url:
            admin = _dsn(url)
            db = make_url(url).database
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{db}" OWNER TO {owner}')  # type: ignore[arg-type]
                conn.execute(f"ALTER SCHEMA public OWNER TO {owner}")  # type: ignore[arg-type]
            as_owner = psycopg.conninfo.make_conninfo(admin, user=owner, password="owner-pw")
            upgrade(_url_of(as_owner))
            dispose_engines()
            result = _grant(as_owner, analyst)
            problems = result.problems  # type: ignore[attr-defined]
            assert problems and all("large objects" in p for p in problems), problems
            with psycopg.connect(admin, autocommit=True) as conn:
                for p in problems:
                    conn.execute(re.search(r"\((REVOKE .*) needs", p).group(1))  # type: ignore[union-attr, arg-type]
            assert _grant(as_owner, analyst).problems == []  # type: ignore[attr-defined]
            with psycopg.connect(admin, autocommit=True) as conn:
                drop_analyst(conn, analyst)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {analyst}")  # type: ignore[arg-type]
            conn.execute(f"DROP ROLE IF EXISTS {owner}")  # type: ignore[arg-type]


def test_stashing_data_in_role_settings_is_reported(populated: Populated, role: str) -> None:
    """The one write PostgreSQL lets every login role make: its own role settings. Not
    preventable without a superuser per session; detected instead."""
    _grant(populated.dsn, role, password=ANALYST_PASSWORD)
    login = psycopg.conninfo.make_conninfo(populated.dsn, user=role, password=ANALYST_PASSWORD)
    with psycopg.connect(login, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.execute(
            psycopg.sql.SQL("ALTER ROLE {} SET search_path = {}").format(
                psycopg.sql.Identifier(role), psycopg.sql.Literal("x" * 100_000)
            )
        )
    with psycopg.connect(populated.dsn) as conn:
        problems = verify_read_only(conn, role)
    assert any("role settings hold" in p for p in problems), problems


def test_worker_role_still_writes_after_analyst_hardening(populated: Populated, role: str) -> None:
    """The PUBLIC revokes are database-wide: a worker role must not need any of them."""
    _grant(populated.dsn, role)
    worker = f"adgen_worker_t{uuid.uuid4().hex[:10]}"
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        grant_worker(conn, worker, password="w0rker-pass")
    try:
        login = psycopg.conninfo.make_conninfo(populated.dsn, user=worker, password="w0rker-pass")
        with psycopg.connect(login) as conn:
            conn.execute("INSERT INTO campaigns (id, advertiser_id, name) VALUES ('w', 'a', 'n')")
            conn.execute(
                "INSERT INTO rejected_events (reason, payload, payload_bytes) VALUES ('r', 'p', 1)"
            )
            conn.execute("UPDATE campaigns SET name = 'm' WHERE id = 'w'")
            # Feedback ingest's COPY stage (shared/feedback/store.py) needs a temporary table.
            conn.execute("CREATE TEMP TABLE stage (LIKE feedback_events INCLUDING DEFAULTS)")
            conn.execute("DELETE FROM campaigns WHERE id = 'w'")
            conn.rollback()
    finally:
        with psycopg.connect(populated.dsn, autocommit=True) as conn:
            drop_worker(conn, worker)


def test_refuses_existing_role_with_elevated_attributes(populated: Populated, role: str) -> None:
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} CREATEDB").format(psycopg.sql.Identifier(role))
        )
    with pytest.raises(RoleError, match="elevated"):
        _grant(populated.dsn, role)
    with psycopg.connect(populated.dsn, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("ALTER ROLE {} NOCREATEDB").format(psycopg.sql.Identifier(role))
        )


# --- analyst questions (finding 6), against rows this test inserts ------------------------------

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# Failed events: (event id, campaign, reason, the class an analyst should see).
FAILED = [
    ("f1", "qa", "gave up after 3 attempts; last error: worker lost", "worker_lost"),
    ("f2", "qa", "gave up after 3 attempts; last error: transient: db down", "worker_lost"),
    ("f3", "qa", "ValueError: cannot compose 0 products", "error"),
    ("f4", "qb", "render: OSError: [Errno 28] No space left on device", "render_error"),
    ("f5", "qb", "gave up after retries: OperationalError: server closed", "retries_exhausted"),
    ("f6", "qb", "SoftTimeLimitExceeded: SoftTimeLimitExceeded()", "time_limit"),
]
# Refused messages: (event id or None, payload, reason, class, campaign the views attribute).
REJECTED = [
    (
        "r1",
        '{"event_id": "r1", "campaign": {"id": "qa", "name": "A"}, "type": 3}',
        "invalid event: type: Input should be 'product_display'",
        "invalid_event",
        "qa",
    ),
    (
        "r2",
        '{"event_id": "r2", "campaign": {"name": "B", "id": "qb"}, "products": []}',
        "invalid event: products: List should have at least 1 item",
        "invalid_event",
        "qb",
    ),
    (
        None,
        '{"schema_version": 1, "campaign": {"id": "qb", "advertiser_id": "x", "na',
        "payload is not JSON: Unterminated string starting at: line 1",
        "not_json",
        "qb",
    ),
    (None, "x" * 100, "payload of 70000 bytes exceeds the 65536-byte limit", "too_large", None),
    (
        "d1",
        '{"event_id": "d1", "campaign": {"id": "qa"}}',
        "duplicate event_id with a different payload (the first payload stands)",
        "duplicate_id",
        "qa",
    ),
    (
        "r3",
        '{"event_id": "r3", "campaign": {"id": "no such/id"}}',
        "event signature does not match its body (tampered or wrong key)",
        "signature",
        None,
    ),
]
# Done events: (event id, campaign, received_at, milliseconds from received to done).
DONE = [
    (f"d{i}", "qa" if i % 2 else "qb", T0 + timedelta(days=i % 3, minutes=i), ms)
    for i, ms in enumerate(
        [1200.0, 800.0, 950.5, 4000.0, 610.0, 2222.0, 1500.0, 99.0, 30000.0, 700.0, 1234.5, 5600.0],
        start=1,
    )
]


def _insert_question_rows(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO campaigns (id, advertiser_id, name) VALUES "
            "('qa', 'adv', 'A'), ('qb', 'adv', 'B')"
        )
        for eid, camp, received, ms in DONE:
            conn.execute(
                "INSERT INTO events (event_id, campaign_id, status, attempts, "
                "creatives_requested, received_at, started_at, finished_at, "
                "processing_ms) VALUES (%s, %s, 'done', 1, 1, %s, %s, %s, %s)",
                (eid, camp, received, received, received + timedelta(milliseconds=ms), ms / 2),
            )
        for eid, camp, reason, _cls in FAILED:
            conn.execute(
                "INSERT INTO events (event_id, campaign_id, status, attempts, "
                "creatives_requested, received_at, finished_at, last_error) "
                "VALUES (%s, %s, 'failed', 3, 1, %s, %s, %s)",
                (eid, camp, T0, T0 + timedelta(seconds=5), reason),
            )
        for eid, payload, reason, _cls, _camp in REJECTED:
            conn.execute(
                "INSERT INTO rejected_events (event_id, reason, payload, payload_bytes,"
                " received_at) VALUES (%s, %s, %s, %s, %s)",
                (eid, reason, payload, len(payload), T0),
            )
            if eid is not None and eid.startswith("r"):  # d1 is a done event that stands
                conn.execute(
                    "INSERT INTO events (event_id, status, attempts, creatives_requested, "
                    "received_at, finished_at, last_error) "
                    "VALUES (%s, 'rejected', 1, 0, %s, %s, %s)",
                    (eid, T0, T0, reason),
                )


@pytest.fixture
def questions(pg_url: str) -> Iterator[tuple[str, str]]:
    """A fresh database with the rows above and a LOGIN analyst; (admin dsn, analyst dsn)."""
    dsn = _dsn(pg_url)
    _insert_question_rows(dsn)
    name = f"adgen_analyst_q{uuid.uuid4().hex[:10]}"
    assert _grant(dsn, name, password=ANALYST_PASSWORD).problems == []  # type: ignore[attr-defined]
    yield dsn, psycopg.conninfo.make_conninfo(dsn, user=name, password=ANALYST_PASSWORD)
    with psycopg.connect(dsn, autocommit=True) as conn:
        drop_analyst(conn, name)
    dispose_engines()


def test_question_problems_grouped_by_reason(questions: tuple[str, str]) -> None:
    """ "Which events failed or were rejected, and why, grouped by reason" as the analyst."""
    _admin, analyst = questions
    expected = Counter(
        [("failed", cls) for *_, cls in FAILED] + [("rejected", r[3]) for r in REJECTED]
    )
    rows = _query(
        analyst,
        """SELECT status, reason_class, count(*)
                              FROM analytics.event_problems
                              GROUP BY status, reason_class""",
    )
    assert {(st, cls): n for st, cls, n in rows} == dict(expected)
    # Per campaign, with the campaign a refused payload named (unreadable ones: none).
    by_campaign = Counter(
        [(camp, "failed") for _, camp, *_ in FAILED] + [(r[4], "rejected") for r in REJECTED]
    )
    rows = _query(
        analyst,
        """SELECT campaign_id, status, count(*) FROM analytics.event_problems
                              GROUP BY campaign_id, status""",
    )
    assert {(c, st): n for c, st, n in rows} == dict(by_campaign)
    # Every problem keeps its full reason; refused messages without an id are there too.
    reasons = _query(analyst, "SELECT reason FROM analytics.event_problems")
    assert sorted(r for (r,) in reasons) == sorted(
        [f[2] for f in FAILED] + [r[2] for r in REJECTED]
    )
    # campaign_summary.events_rejected counts rejected events (r1 -> qa, r2 -> qb), and
    # `rejections` every refused message naming the campaign.
    summary = _query(
        analyst,
        "SELECT campaign_id, events_failed, events_rejected, rejections "
        "FROM analytics.campaign_summary ORDER BY campaign_id",
    )
    rejected_events = Counter(r[4] for r in REJECTED if r[0] and r[0].startswith("r") and r[4])
    rejections = Counter(r[4] for r in REJECTED if r[4])
    failed = Counter(camp for _, camp, *_ in FAILED)
    assert summary == [(c, failed[c], rejected_events[c], rejections[c]) for c in ("qa", "qb")]


def test_question_p50_p95_received_to_done_per_day(questions: tuple[str, str]) -> None:
    """ "p50/p95 time from received to done per day" is one SQL query as the analyst."""
    _admin, analyst = questions
    per_day: dict[date, list[float]] = defaultdict(list)
    for _eid, _camp, received, ms in DONE:
        per_day[(received + timedelta(milliseconds=ms)).astimezone(UTC).date()].append(ms)
    expected = [
        (day, len(v), float(np.percentile(v, 50)), float(np.percentile(v, 95)))
        for day, v in sorted(per_day.items())
    ]
    rows = _query(
        analyst,
        """
        SELECT finished_day, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY received_to_finished_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY received_to_finished_ms)
        FROM analytics.events
        WHERE status = 'done'
        GROUP BY finished_day
        ORDER BY finished_day""",
    )
    assert len(rows) == len(expected) == 3
    for got, want in zip(rows, expected, strict=True):
        assert got[:2] == want[:2] and got[2:] == pytest.approx(want[2:], abs=1e-3)
    # The report's own numbers (Python percentile_cont over the same view) agree.
    with session_scope(_url_of(analyst)) as session:
        data = load_report_data(session=session)
    assert [(d.day, d.events) for d in reversed(data.latency)] == [w[:2] for w in expected]
    for got_day, want in zip(reversed(data.latency), expected, strict=True):
        assert (got_day.p50_ms, got_day.p95_ms) == pytest.approx(want[2:], abs=1e-3)
    assert {(g.status, g.reason_class): g.count for g in data.problems} == dict(
        Counter([("failed", cls) for *_, cls in FAILED] + [("rejected", r[3]) for r in REJECTED])
    )


def _url_of(conninfo: str) -> str:
    """SQLAlchemy URL (psycopg 3) for a psycopg conninfo."""
    info = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (
        f"postgresql+psycopg://{info['user']}:{info.get('password', '')}@"
        f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info['dbname']}"
    )


def test_views_module_matches_the_postgres_views(populated: Populated) -> None:
    """Every column the report reads exists in the Postgres view it names."""
    for table in (
        POSTGRES.creatives,
        POSTGRES.scores,
        POSTGRES.campaigns,
        POSTGRES.models,
        POSTGRES.events,
        POSTGRES.problems,
    ):
        cols = {
            r[0]
            for r in _query(
                populated.dsn,
                f"""
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = 'analytics' AND table_name = '{table.name}'""",
            )
        }  # type: ignore[attr-defined]
        assert set(table.c.keys()) <= cols, (table.name, set(table.c.keys()) - cols)  # type: ignore[attr-defined]


# --- report over S3 ---------------------------------------------------------------------------


def test_report_uses_presigned_urls_that_work_without_credentials(
    populated: Populated, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    summary = build_report(
        db_url=populated.url, store=populated.store, out=out, expiry_s=600, with_plots=False
    )
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


def test_report_cli_and_grant_cli(
    populated: Populated,
    adgen_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    role: str,
) -> None:
    import typer

    from workers.cli.report_cmd import grant_analyst as grant_cmd
    from workers.cli.report_cmd import report

    set_env(
        monkeypatch,
        adgen_env,
        ADGEN_DATABASE_URL=populated.url,
        ADGEN_STORAGE_URL=populated.storage_url,
        ADGEN_PRESIGN_EXPIRY_S="900",
    )
    app = typer.Typer()
    app.command("report")(report)
    app.command("grant-analyst")(grant_cmd)
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(
        app,
        ["report", "--campaign", "pg-camp-cart", "--out", str(out), "--embed", "--thumb-px", "96"],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert page.count('src="data:image/webp') == 2 and "X-Amz-Expires=900" in page
    res = CliRunner().invoke(app, ["report", "--out", str(out), "--expiry", "5"])
    assert res.exit_code != 0 and "expiry" in res.output
    res = CliRunner().invoke(app, ["grant-analyst", "--role", role])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["grant-analyst", "--role", "Robert'); DROP"])
    assert res.exit_code != 0 and "invalid role name" in res.output


def test_report_as_the_analyst_role(
    populated: Populated,
    analyst: str,
    adgen_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Finding 6: the report, and `adgen report`, connected as the read-only analyst role."""
    analyst_url = _url_of(analyst)
    out = tmp_path / "analyst.html"
    summary = build_report(db_url=analyst_url, store=populated.store, out=out, expiry_s=600)
    page = out.read_text()
    assert summary.creatives_total == summary.creatives_shown == 10
    assert summary.missing_images == 0
    assert len(re.findall(r'<img [^>]*data-creative-id="', page)) == 10
    assert page.count('<section class="campaign"') == 5 and '<section id="plots">' in page
    assert '<section id="problems">' in page and "invalid_event" in page
    assert '<section id="latency">' in page and "events done" in page
    assert "permission denied" not in page
    # The CLI the issue ran, as the analyst.
    set_env(
        monkeypatch,
        adgen_env,
        ADGEN_DATABASE_URL=analyst_url,
        ADGEN_STORAGE_URL=populated.storage_url,
    )
    from workers.cli.report_cmd import report

    app = typer.Typer()
    app.command("report")(report)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "cli.html"), "--link"])
    assert res.exit_code == 0, res.output
    assert "10 of 10 creatives" in res.output


def test_ctr_section_reads_the_views_as_the_analyst(populated: Populated, analyst: str) -> None:
    """The feedback loop's CTR section (0005) reads analytics.ctr_creatives and serving_plan on
    Postgres, so it works as the analyst and agrees with the table-based SQLite path."""
    from shared.analytics.ctr import _from_tables, load_ctr

    creatives = _query(
        populated.dsn,
        "SELECT creative_id, campaign_id, size FROM creatives ORDER BY creative_id LIMIT 2",
    )
    with psycopg.connect(populated.dsn) as conn:
        for i, (cid, camp, size) in enumerate(creatives):
            conn.execute(
                "INSERT INTO feedback_daily (creative_id, segment, day, campaign_id, "
                "size, impressions, clicks, conversions, conversion_value) VALUES "
                "(%s, 'all', current_date, %s, %s, %s, %s, 1, 0)",
                (cid, camp, size, 1000 * (i + 1), 10 + i),
            )
        conn.execute(
            "INSERT INTO serving_plan VALUES (%s, %s, 'all', %s, 0.7, 0.5, 0.01, 0.005,"
            " 0.02, 1000, 10, 0.01, 2.0, 'thompson', now())",
            (creatives[0][1], creatives[0][2], creatives[0][0]),
        )
    try:
        with session_scope(_url_of(analyst)) as session:
            rows = load_ctr(session=session)
        with session_scope(populated.url) as session:
            totals, meta, retired, share = _from_tables(session, None, 40)
        assert {r.creative_id: (r.impressions, r.clicks, r.conversions) for r in rows} == totals
        assert {r.creative_id: (r.campaign_id, r.size, r.style, r.variant) for r in rows} == meta
        assert {r.creative_id: r.serving_share for r in rows if r.serving_share} == share
    finally:
        with psycopg.connect(populated.dsn) as conn:
            conn.execute("DELETE FROM serving_plan")
            conn.execute("DELETE FROM feedback_daily")


def test_report_with_presigned_images_renders_in_chromium(
    populated: Populated, tmp_path: Path
) -> None:
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
    downgrade(pg_url, "0004")  # 0003 comes last in the chain (0002 -> 0005 -> 0004 -> 0003)
    assert _query(dsn, views) == [(len(ALL_VIEWS) - 2,)]
    assert _query(
        dsn,
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
        "'analytics' AND table_name = 'campaign_summary' "
        "AND column_name = 'rejections'",
    ) == [(0,)]
    upgrade(pg_url)
    assert _query(dsn, views) == [(len(ALL_VIEWS),)]
    downgrade(pg_url, "0001")
    assert _query(dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'analytics'") == [(0,)]
    assert _query(dsn, "SELECT version_num FROM alembic_version") == [("0001",)]
    upgrade(pg_url)
    assert _query(dsn, views) == [(len(ALL_VIEWS),)]
    downgrade(pg_url, "base")
    assert _query(
        dsn,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename <> 'alembic_version'",
    ) == [(0,)]
    upgrade(pg_url)
    dispose_engines()
