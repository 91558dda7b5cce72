"""A read-only Postgres role for analysts: USAGE on `analytics`, SELECT on its views, nothing else.

Read-only rests on privileges, not on `default_transaction_read_only` (a session may turn that
off): besides table privileges, the database's PUBLIC grants that let any role write something
persistent or session-scoped are taken away (TEMPORARY on the database, CREATE on schema
public, EXECUTE on the large-object functions that create or write). `verify_read_only` then
checks what the role can still do and reports it. docs/schema.md explains each choice.

The caller owns the connection and its transaction (the CLI commits). Every identifier goes
through `psycopg.sql.Identifier`; role names are validated first all the same, because a role
name also ends up in logs and docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SCHEMA = "analytics"
# The ORM tables an analyst may read directly with `raw_tables=True` (never write).
RAW_TABLES = ("campaigns", "events", "creatives", "scores", "model_versions", "rejected_events")

ROLE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED = frozenset(
    {"public", "none", "postgres", "current_role", "current_user", "session_user", "user", "all"}
)
_WRITE_PRIVILEGES = "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
# Server-side large-object functions that create or change a large object: PUBLIC may execute
# them by default, and a large object is persistent storage no table privilege covers.
# (`lo_compat_privileges = off` only guards objects that already exist; lo_import/lo_export are
# superuser-only already but listed so the check covers them.)
LO_WRITE_FUNCTIONS = (
    "lo_creat(integer)",
    "lo_create(oid)",
    "lo_from_bytea(oid,bytea)",
    "lo_import(text)",
    "lo_import(text,oid)",
    "lowrite(integer,bytea)",
    "lo_put(oid,bigint,bytea)",
    "lo_truncate(integer,integer)",
    "lo_truncate64(integer,bigint)",
    "lo_unlink(oid)",
)
# A login role may always ALTER ROLE itself SET <parameter> (PostgreSQL has no privilege for
# it), which stores text in the catalog; more than this many bytes there is reported.
ROLE_SETTINGS_MAX_BYTES = 1024


class RoleError(ValueError):
    """The role name or its existing attributes make it unsafe to use as an analyst role."""


@dataclass
class GrantResult:
    role: str
    created: bool
    login: bool
    views: list[str] = field(default_factory=list)
    raw_tables: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # from `verify_read_only`


def validate_role_name(name: str) -> str:
    """Lower-case SQL identifiers only (no quoting surprises), not reserved or `pg_`-prefixed."""
    if not ROLE_PATTERN.fullmatch(name):
        raise RoleError(f"invalid role name {name!r}: use [a-z_][a-z0-9_]*, at most 63 chars")
    if name in _RESERVED or name.startswith("pg_"):
        raise RoleError(f"role name {name!r} is reserved")
    return name


def _one(conn: psycopg.Connection, query: sql.Composable | str, *args: object) -> tuple | None:
    return conn.execute(query, args or None).fetchone()  # type: ignore[arg-type]


def _check_existing(conn: psycopg.Connection, role: str) -> bool:
    """True when the role exists; refuses a role that could do more than read."""
    row = _one(
        conn,
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,"
        " rolname = current_user FROM pg_roles WHERE rolname = %s",
        role,
    )
    if row is None:
        return False
    if any(row[:5]):
        raise RoleError(
            f"role {role!r} exists with elevated attributes "
            "(superuser/createrole/createdb/replication/bypassrls); refusing to use it"
        )
    if row[5]:
        raise RoleError(f"role {role!r} is the role running this command; refusing")
    return True


def _schema_owner(conn: psycopg.Connection) -> str:
    row = _one(conn, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", SCHEMA)
    if row is None:
        raise RoleError(f"schema {SCHEMA!r} not found: run `adgen db upgrade` on Postgres first")
    return str(row[0]).strip('"')


def views_in_schema(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.views "
        "WHERE table_schema = %s ORDER BY table_name",
        (SCHEMA,),
    ).fetchall()
    return [r[0] for r in rows]


def grant_analyst(
    conn: psycopg.Connection, role: str, *, password: str | None = None, raw_tables: bool = False
) -> GrantResult:
    """Create or update `role` as a read-only analyst. Idempotent; re-running without
    `raw_tables` takes raw-table access away again. LOGIN only when a password is given."""
    validate_role_name(role)
    ident = sql.Identifier(role)
    owner = _schema_owner(conn)
    exists = _check_existing(conn, role)
    # The server logs this statement only if log_statement is 'ddl' or 'all'; the password is
    # sent as a literal because utility statements take no bind parameters.
    login = (
        sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password))
        if password is not None
        else sql.SQL("NOLOGIN")
    )
    if not exists:
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} WITH NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS NOINHERIT {}"
            ).format(ident, login)
        )
    elif password is not None:
        # Attributes were checked above; naming SUPERUSER & co here would need a superuser.
        conn.execute(sql.SQL("ALTER ROLE {} WITH {}").format(ident, login))
    # A second line of defence should a write privilege ever be granted by mistake.
    conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(ident))

    database = str(_one(conn, "SELECT current_database()")[0])  # type: ignore[index]
    schema = sql.Identifier(SCHEMA)
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident)
    )
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, ident))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, ident))
    # Views a later migration adds (created by the schema owner) become readable too.
    conn.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}"
        ).format(sql.Identifier(owner), schema, ident)
    )
    harden_database(conn, role)
    present = _raw_tables_present(conn)
    for table in present:
        action = "GRANT SELECT ON {} TO {}" if raw_tables else "REVOKE ALL ON {} FROM {}"
        conn.execute(sql.SQL(action).format(sql.Identifier("public", table), ident))
    if raw_tables:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(ident))

    login_now = bool(_one(conn, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", role)[0])  # type: ignore[index]
    return GrantResult(
        role=role,
        created=not exists,
        login=login_now,
        views=views_in_schema(conn),
        raw_tables=present if raw_tables else [],
        problems=verify_read_only(conn, role),
    )


def harden_database(conn: psycopg.Connection, role: str) -> None:
    """Take away what PUBLIC may do by default that would let `role` write, in this database.

    No negative grants exist in PostgreSQL: a privilege PUBLIC holds, every role holds, so these
    revokes are database-wide and apply to every role that is not the owner (workers use none
    of them). Only an object's owner (or a superuser) may revoke; objects the running role does
    not own are skipped, and `verify_read_only` then reports the privilege that is left."""
    ident = sql.Identifier(role)
    owned = _owned_objects(conn)
    for grantee in (sql.SQL("PUBLIC"), ident):
        for kind, name in owned:
            privileges = {
                "DATABASE": "CREATE, TEMPORARY",
                "SCHEMA": "CREATE",
                "FUNCTION": "EXECUTE",
            }[kind]
            target = sql.SQL(name) if kind == "FUNCTION" else sql.Identifier(name)
            conn.execute(
                sql.SQL("REVOKE {} ON {} {} FROM {}").format(
                    sql.SQL(privileges), sql.SQL(kind), target, grantee
                )
            )


def _owned_objects(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(kind, name) of this database, schemas public and analytics and the large-object
    writers, where the running role is the owner or a member of it (superusers are members of
    every role). Function names come only from LO_WRITE_FUNCTIONS."""
    out: list[tuple[str, str]] = []
    db = _one(
        conn,
        "SELECT datname, pg_has_role(current_user, datdba, 'USAGE') FROM pg_database "
        "WHERE datname = current_database()",
    )
    if db and db[1]:
        out.append(("DATABASE", str(db[0])))
    for name, mine in conn.execute(
        "SELECT nspname, pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace "
        "WHERE nspname = ANY(%s) ORDER BY nspname",
        (["public", SCHEMA],),
    ).fetchall():
        if mine:
            out.append(("SCHEMA", str(name)))
    for fn in _lo_functions_present(conn):
        if _one(
            conn,
            "SELECT pg_has_role(current_user, proowner, 'USAGE') FROM pg_proc "
            "WHERE oid = %s::regprocedure",
            fn,
        )[0]:  # type: ignore[index]
            out.append(("FUNCTION", fn))
    return out


def _lo_functions_present(conn: psycopg.Connection) -> list[str]:
    """The signatures of LO_WRITE_FUNCTIONS this server has (all of them since PostgreSQL 11).
    Only names from that constant are ever spliced into SQL."""
    rows = conn.execute(
        "SELECT to_regprocedure(f)::text FROM unnest(%s::text[]) AS f", (list(LO_WRITE_FUNCTIONS),)
    ).fetchall()
    present = {r[0] for r in rows if r[0]}
    return [f for f in LO_WRITE_FUNCTIONS if f in present]


def _raw_tables_present(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename = ANY(%s) ORDER BY tablename",
        (list(RAW_TABLES),),
    ).fetchall()
    return [r[0] for r in rows]


def verify_read_only(conn: psycopg.Connection, role: str) -> list[str]:
    """Everything `role` could change in this database (through PUBLIC grants too); [] is good.

    Covers tables, views, sequences, schemas, the database (CREATE and TEMPORARY), large
    objects, SECURITY DEFINER functions in user schemas and bulky per-role settings.
    """
    problems: list[str] = []
    attrs = _one(
        conn,
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        role,
    )
    if attrs is None:
        return [f"role {role!r} does not exist"]
    if attrs[0]:
        problems.append("role has elevated attributes")
    for (parent,) in conn.execute(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        (role,),
    ).fetchall():
        problems.append(f"member of role {parent}")
    user_ns = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'"
    for (rel,) in conn.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND {user_ns} "
        "AND has_table_privilege(%s, c.oid, %s)",
        (role, _WRITE_PRIVILEGES),
    ).fetchall():
        problems.append(f"can write to {rel}")
    for (seq,) in conn.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind = 'S' AND {user_ns} "
        # CASE: the planner may evaluate conditions in any order; this one errors on tables.
        "AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%s, c.oid, 'USAGE, UPDATE')"
        " END",
        (role,),
    ).fetchall():
        problems.append(f"can advance sequence {seq}")
    for (ns,) in conn.execute(
        f"SELECT n.nspname FROM pg_namespace n WHERE {user_ns} "
        "AND has_schema_privilege(%s, n.oid, 'CREATE')",
        (role,),
    ).fetchall():
        problems.append(f"can CREATE in schema {ns}")
    if _one(conn, "SELECT has_database_privilege(%s, current_database(), 'CREATE')", role)[0]:  # type: ignore[index]
        problems.append("can CREATE schemas in this database")
    problems += _session_write_problems(conn, role)
    return problems


def _session_write_problems(conn: psycopg.Connection, role: str) -> list[str]:
    """Writes that need no table privilege: temporary tables, large objects, functions that run
    with their owner's rights, and data stashed in the role's own settings."""
    problems: list[str] = []
    if _one(conn, "SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", role)[0]:  # type: ignore[index]
        problems.append(
            "can create temporary tables (PUBLIC has TEMPORARY on a database by default; "
            "the database owner must run REVOKE TEMPORARY ON DATABASE <db> FROM PUBLIC)"
        )
    for fn in _lo_functions_present(conn):
        if _one(conn, "SELECT has_function_privilege(%s, %s, 'EXECUTE')", role, fn)[0]:  # type: ignore[index]
            problems.append(
                f"can create or write large objects with {fn} (REVOKE EXECUTE "
                f"ON FUNCTION {fn} FROM PUBLIC needs a superuser)"
            )
    owned = _one(
        conn,
        "SELECT count(*) FROM pg_largeobject_metadata m JOIN pg_roles r "
        "ON r.oid = m.lomowner WHERE r.rolname = %s",
        role,
    )[0]  # type: ignore[index]
    if owned:
        problems.append(f"owns {owned} large objects")
    for (fn,) in conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND has_function_privilege(%s, p.oid, 'EXECUTE') "
        "AND has_schema_privilege(%s, n.oid, 'USAGE')",
        (role, role),
    ).fetchall():
        problems.append(f"can execute SECURITY DEFINER function {fn}")
    stored = _one(
        conn,
        "SELECT coalesce(sum(octet_length(s.setconfig::text)), 0) "
        "FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
        "WHERE r.rolname = %s",
        role,
    )[0]  # type: ignore[index]
    if stored > ROLE_SETTINGS_MAX_BYTES:
        problems.append(
            f"its role settings hold {stored} bytes (ALTER ROLE ... SET by the "
            "role itself?); inspect pg_db_role_setting, then ALTER ROLE ... RESET"
        )
    return problems


def drop_analyst(conn: psycopg.Connection, role: str) -> None:
    """Remove the role's grants in this database, then the role (fails if other databases still
    grant it something: run this in each of them first). For tests and decommissioning."""
    validate_role_name(role)
    if _one(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", role) is None:
        return
    _check_existing(conn, role)
    ident = sql.Identifier(role)
    conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
    conn.execute(sql.SQL("DROP ROLE {}").format(ident))
