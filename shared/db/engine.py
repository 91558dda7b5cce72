"""Engines and sessions, built lazily per process (Celery forks: pools must not cross a fork)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shared.db.cursor import SyncedCursor

_engines: dict[tuple[int, str], Engine] = {}
# One session factory per engine: `sessionmaker` builds a Session subclass and its event
# dispatch on every call, ~15% of a claim's CPU when it was made per transaction.
_factories: dict[tuple[int, str], sessionmaker[Session]] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL + a busy timeout let the demo's worker and CLI share the file safely.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def get_engine(url: str) -> Engine:
    """One engine per (process, url); a forked child builds its own."""
    key = (os.getpid(), url)
    eng = _engines.get(key)
    if eng is None:
        if url.startswith("sqlite"):
            eng = create_engine(url, connect_args={"timeout": 30})
            event.listen(eng, "connect", _sqlite_pragmas)
        else:
            # A hung or frozen client must not hold row locks forever: the server ends sessions
            # idle inside a transaction, and a blocked lock wait fails (a transient error that
            # the task retries with backoff) instead of waiting without bound.
            # Both only work while the server waits between synced statements: psycopg's
            # pipelined executemany would leave it mid-pipeline, where neither applies
            # (shared/db/cursor.py), so the psycopg driver gets a cursor that syncs each one.
            options = "-c lock_timeout=15000 -c idle_in_transaction_session_timeout=30000"
            connect_args: dict[str, Any] = {"options": options}
            if url.startswith("postgresql+psycopg://"):
                connect_args["cursor_factory"] = SyncedCursor
            eng = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=8,
                max_overflow=24,
                pool_recycle=1800,
                connect_args=connect_args,
            )
            # Multi-row INSERT statements instead of executemany when nothing is returned.
            eng.dialect.use_insertmanyvalues_wo_returning = True
        _engines[key] = eng
        _factories[key] = sessionmaker(bind=eng, expire_on_commit=False)
    return eng


def dispose_engines() -> None:
    for key in list(_engines):
        _factories.pop(key, None)
        if key[0] == os.getpid():
            _engines.pop(key).dispose()
        else:  # inherited from a parent: drop without closing the parent's sockets
            _engines.pop(key).dispose(close=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    get_engine(url)
    session = _factories[(os.getpid(), url)]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
