"""A psycopg cursor whose `executemany` never leaves the server waiting in the middle of a
pipeline.

psycopg 3 runs `executemany` in pipeline mode: it sends every statement, then one Sync. Until
that Sync arrives the server holds the statements' locks in a state that neither
`idle_in_transaction_session_timeout` nor `statement_timeout` ends (the backend shows as
`active`; PostgreSQL 17's `transaction_timeout` would, 15 does not). A worker frozen in that
window (SIGSTOP, a stalled VM, a thread descheduled between the two writes) blocked every other
worker's claim on the same campaign until it woke: the known defect of sessions 6-11's
frozen-worker fault test. Statement by statement, each with its own Sync, the server sees a
client idle in a transaction whenever this one stops, and the idle timeout ends it.

The engine also renders INSERTs without RETURNING as multi-row statements (SQLAlchemy's
"insertmanyvalues", as its psycopg2 dialect does), so the common case is one statement, not
a statement per row; what still comes here is rare (the ORM flushing several UPDATEs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.abc import Params


class SyncedCursor(psycopg.Cursor[Any]):
    """`executemany` as one synced `execute` per parameter set; `rowcount` is their sum, as
    psycopg's own `executemany` reports it (SQLAlchemy checks it against the rows it meant to
    update)."""

    _many_rowcount: int | None = None

    def execute(self, query: Any, params: Params | None = None, **kwargs: Any) -> Any:
        self._many_rowcount = None
        return super().execute(query, params, **kwargs)

    def executemany(
        self, query: Any, params_seq: Iterable[Params], *, returning: bool = False
    ) -> None:
        if returning:  # results kept across executions: psycopg's own path (not used by us)
            self._many_rowcount = None
            super().executemany(query, params_seq, returning=True)
            return
        total = 0
        for params in params_seq:
            super().execute(query, params)
            total += max(super().rowcount, 0)
        self._many_rowcount = total

    @property
    def rowcount(self) -> int:
        return super().rowcount if self._many_rowcount is None else self._many_rowcount
