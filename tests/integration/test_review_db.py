"""Migration 0004 on PostgreSQL: the decision audit is append-only (an undo is a new row), the
analyst role reads analytics.review_decisions but not the accounts, decisions survive a new
engine (restart), and downgrade/upgrade round-trips."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.orm import Session

from shared.analytics.roles import drop_analyst, grant_analyst
from shared.db.engine import dispose_engines, get_engine
from shared.db.migrate import downgrade, upgrade
from shared.review.approval import approved_ids, record_decision
from shared.review.users import add_user
from tests.support.review_factory import Spec, add_creatives

pytestmark = pytest.mark.integration


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _decide(url: str) -> list[str]:
    with Session(get_engine(url)) as s:
        ids = add_creatives(s, [Spec(), Spec(campaign="camp-b")])
        add_user(session=s, username="ann", password="ten chars pw", role="reviewer")
        record_decision(session=s, creative_id=ids[0], decision="approve", actor="ann")
        record_decision(
            session=s,
            creative_id=ids[1],
            decision="reject",
            actor="ann",
            reason_code="policy",
            reason_text="claim",
        )
        record_decision(session=s, creative_id=ids[1], decision="undo", actor="ann")
        s.commit()
    return ids


def test_audit_is_append_only_and_survives_a_restart(pg_url: str) -> None:
    a, b = _decide(pg_url)
    with psycopg.connect(_dsn(pg_url)) as conn:
        for stmt in (
            "UPDATE creative_decisions SET decision = 'approve'",
            "DELETE FROM creative_decisions",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(stmt)
            conn.rollback()
        rows = conn.execute(
            "SELECT creative_id, decision, undone FROM "
            "analytics.review_decisions ORDER BY decision_id"
        ).fetchall()
        assert rows == [(a, "approve", False), (b, "reject", True), (b, "undo", False)]
    dispose_engines()  # a new process would start from here
    with Session(get_engine(pg_url)) as s:
        assert approved_ids(session=s, creative_ids=[a, b]) == {a}
    with psycopg.connect(_dsn(pg_url)) as conn:
        # Deleting a campaign still cascades through its creatives' decisions.
        conn.execute("DELETE FROM campaigns WHERE id = 'camp-b'")
        assert conn.execute("SELECT count(*) FROM creative_decisions").fetchone() == (1,)


def test_analyst_reads_decisions_but_not_accounts(pg_url: str) -> None:
    _decide(pg_url)
    role = f"an_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(pg_url)) as conn:
        result = grant_analyst(conn, role)
        conn.commit()
    assert "review_decisions" in result.views and result.problems == []
    try:
        with psycopg.connect(_dsn(pg_url)) as conn:
            conn.execute(f"SET ROLE {role}")
            n = conn.execute("SELECT count(*) FROM analytics.review_decisions").fetchone()
            assert n == (3,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT password_hash FROM public.review_users")
    finally:
        with psycopg.connect(_dsn(pg_url)) as conn:
            drop_analyst(conn, role)
            conn.commit()


def test_downgrade_and_upgrade(pg_url: str) -> None:
    downgrade(pg_url, "0005")
    with psycopg.connect(_dsn(pg_url)) as conn:
        assert conn.execute("SELECT to_regclass('public.creative_decisions')").fetchone() == (None,)
    upgrade(pg_url)
    _decide(pg_url)


def test_worker_role_reads_approvals_but_cannot_decide(pg_url: str) -> None:
    from shared.db.worker_role import drop_worker, grant_worker

    a, _b = _decide(pg_url)
    role = f"wk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(pg_url)) as conn:
        grant_worker(conn, role)
        conn.commit()
    try:
        with psycopg.connect(_dsn(pg_url)) as conn:
            conn.execute(f"SET ROLE {role}")
            assert conn.execute("SELECT count(*) FROM review_rules").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM creative_decisions").fetchone() == (3,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(
                    "INSERT INTO creative_decisions (creative_id, decision, actor) "
                    "VALUES (%s, 'approve', 'worker')",
                    (a,),
                )
            conn.rollback()
            conn.execute(f"SET ROLE {role}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM review_users")
    finally:
        with psycopg.connect(_dsn(pg_url)) as conn:
            drop_worker(conn, role)
            conn.commit()
