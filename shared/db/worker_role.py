"""Least privilege for workers: read and write AdGen's tables, never change the schema.

Migrations run as the schema owner in a one-shot step (`adgen db upgrade`); workers connect as
this role. The caller owns the connection and its transaction.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from shared.analytics.roles import RAW_TABLES, validate_role_name

# The feedback loop's plan refresh asks shared/review/approval.py which creatives are approved:
# workers read the review tables and never write them (people decide, through `adgen web`).
REVIEW_READ_TABLES = ("creative_decisions", "review_rules")
# The feedback loop (migration 0005): feedback workers write these (raw feedback, roll-up,
# serving plan, retirements).
FEEDBACK_TABLES = (
    "feedback_events",
    "feedback_rejected",
    "feedback_daily",
    "serving_plan",
    "creative_retirements",
)


def grant_worker(conn: psycopg.Connection, role: str, *, password: str | None = None) -> None:
    """Create or update `role`: DML on AdGen's tables and sequences; no DDL anywhere."""
    validate_role_name(role)
    ident = sql.Identifier(role)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    login = (
        sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password))
        if password is not None
        else sql.SQL("NOLOGIN")
    )
    if exists is None:
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} WITH NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS {}"
            ).format(ident, login)
        )
    elif password is not None:
        conn.execute(sql.SQL("ALTER ROLE {} WITH {}").format(ident, login))
    db = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(db), ident))
    # Feedback ingest stages COPY batches in a temporary table; granted explicitly because
    # `grant-analyst` takes TEMPORARY away from PUBLIC (docs/schema.md).
    conn.execute(sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(db), ident))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))
    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(ident))
    for table in RAW_TABLES:
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.Identifier("public", table), ident
            )
        )
    for table in FEEDBACK_TABLES:
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone() != (None,):
            conn.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                    sql.Identifier("public", table), ident
                )
            )
    for table in REVIEW_READ_TABLES:
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone() != (None,):
            conn.execute(
                sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier("public", table), ident)
            )
    conn.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(ident)
    )


def drop_worker(conn: psycopg.Connection, role: str) -> None:
    validate_role_name(role)
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        return
    ident = sql.Identifier(role)
    conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
    conn.execute(sql.SQL("DROP ROLE {}").format(ident))
