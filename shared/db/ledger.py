"""The ledger port: what the event path records about events (claim, reject, fail, commit).

`pipeline` talks to a `Ledger`, never to database sessions; `SqlLedger` is the implementation
over SQLAlchemy (Postgres in production, SQLite embedded). Each method is one short transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy.exc

from shared.db import repo
from shared.db.engine import session_scope
from shared.db.group_commit import commit_events
from shared.db.repo import Claim
from shared.events import CampaignEvent, Rejection
from shared.records import EventResult

# Writes finished events, one outcome each (None or the exception): `commit_events` by default,
# a worker swaps in its group-commit batcher (many events, one transaction).
KNOWN_CAMPAIGNS_MAX = 100_000  # bounds the memory; forgetting only costs one INSERT again

CommitFn = Callable[[Sequence[EventResult]], list[BaseException | None]]


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    attempt: int  # the delivery number this claim holds (what a hand-off must carry)
    last_error: str | None = None


@dataclass(frozen=True)
class ClaimRequest:
    event: CampaignEvent
    max_attempts: int


# Claims deliveries, one outcome each (the result or the exception): `SqlLedger.claim_many` by
# default, a worker swaps in a batcher over it (concurrently arriving events, one transaction).
ClaimFn = Callable[[Sequence[ClaimRequest]], list[ClaimResult | BaseException]]


class Ledger(Protocol):
    def claim(self, event: CampaignEvent, *, max_attempts: int) -> ClaimResult: ...
    def claim_each(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult | BaseException]: ...
    def reject(
        self, rejection: Rejection, *, payload_bytes: int, placeholder: bool = True
    ) -> None: ...
    def fail(self, event_id: str, reason: str) -> None: ...
    def note_retry(self, event_id: str, error: str) -> None: ...
    def holds_claim(self, event: CampaignEvent, attempt: int) -> str | None: ...
    def commit(self, result: EventResult) -> None: ...
    def commit_each(self, results: Sequence[EventResult]) -> list[BaseException | None]: ...


class SqlLedger:
    def __init__(
        self, db_url: str, worker: str = "local", commit_fn: CommitFn | None = None
    ) -> None:
        self.db_url, self.worker = db_url, worker
        self.commit_fn: CommitFn = commit_fn or (lambda rs: commit_events(db_url, rs))
        self.claim_fn: ClaimFn = self.claim_many
        # Model versions already recorded by this process: each is written once, not per event.
        self._known_models: set[str] = set()
        # Campaign ids this process has written: their claims skip the campaign's INSERT.
        self._known_campaigns: dict[str, None] = {}
        self._lock = threading.Lock()

    def claim(self, event: CampaignEvent, *, max_attempts: int) -> ClaimResult:
        """One delivery's claim, through `claim_fn` (grouped with concurrent ones in a worker)."""
        (result,) = self.claim_each([ClaimRequest(event, max_attempts)])
        if isinstance(result, BaseException):
            raise result
        return result

    def claim_each(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult | BaseException]:
        """Several deliveries (a bundle's events) as one group through `claim_fn`; each gets
        its own outcome, an exception included."""
        return self.claim_fn(requests)

    def claim_many(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult | BaseException]:
        """Claim deliveries in one transaction: one statement for any number of first
        deliveries of campaigns this process has seen before. If the transaction fails, each
        delivery is claimed alone, so one bad delivery cannot fail its neighbours; every caller
        gets its own outcome (transient errors included, for its task to retry)."""
        try:
            outcomes: list[ClaimResult | BaseException] = list(self._claim_all(requests))
        except Exception as exc:  # noqa: BLE001 - handed to the deliveries' own callers below
            if len(requests) == 1:
                return [exc]
            outcomes = []
            for r in requests:
                try:
                    outcomes.extend(self._claim_all([r]))
                except Exception as one:  # noqa: BLE001 - this delivery's caller raises it
                    outcomes.append(one)
        with self._lock:
            if len(self._known_campaigns) >= KNOWN_CAMPAIGNS_MAX:
                self._known_campaigns.clear()
            for r, o in zip(requests, outcomes, strict=True):
                if not isinstance(o, BaseException):
                    self._known_campaigns[r.event.campaign.id] = None
        return outcomes

    def _claim_all(self, requests: Sequence[ClaimRequest]) -> list[ClaimResult]:
        with self._lock:
            known = {r.event.campaign.id for r in requests} & self._known_campaigns.keys()
        try:
            return self._claim_tx(requests, known)
        except sqlalchemy.exc.IntegrityError:
            if not known:
                raise
            # A campaign row we remembered is gone (a reset database): write them again.
            with self._lock:
                for campaign in known:
                    self._known_campaigns.pop(campaign, None)
            return self._claim_tx(requests, set())

    def _claim_tx(self, requests: Sequence[ClaimRequest], known: set[str]) -> list[ClaimResult]:
        with session_scope(self.db_url) as s:
            outcomes = repo.claim_events(
                session=s,
                deliveries=[(r.event, r.max_attempts) for r in requests],
                worker=self.worker,
                known_campaigns=known,
            )
        return [ClaimResult(*o) for o in outcomes]

    def reject(self, rejection: Rejection, *, payload_bytes: int, placeholder: bool = True) -> None:
        """Record a refused message. `placeholder`: also show the id as rejected in `events`
        (never taking it from a valid event; a valid event later takes the placeholder over)."""
        with session_scope(self.db_url) as s:
            repo.record_rejection(
                session=s,
                rejection=rejection,
                worker=self.worker,
                payload_bytes=payload_bytes,
                placeholder=placeholder,
            )

    def fail(self, event_id: str, reason: str) -> None:
        with session_scope(self.db_url) as s:
            repo.note_error(session=s, event_id=event_id, error=reason, final=True)

    def note_retry(self, event_id: str, error: str) -> None:
        with session_scope(self.db_url) as s:
            repo.note_error(session=s, event_id=event_id, error=f"transient: {error}", final=False)

    def holds_claim(self, event: CampaignEvent, attempt: int) -> str | None:
        """None when `attempt` is the live claim on exactly this payload; else why not."""
        with session_scope(self.db_url) as s:
            return repo.claim_problem(session=s, event=event, attempt=attempt)

    def commit(self, result: EventResult) -> None:
        (problem,) = self.commit_each([result])
        if problem is not None:
            raise problem

    def commit_each(self, results: Sequence[EventResult]) -> list[BaseException | None]:
        """Several finished events (a bundle's) as one group through `commit_fn`; one outcome
        each (None or the exception)."""
        with self._lock:
            for r in results:
                r.record_model = r.model.version not in self._known_models
        problems = self.commit_fn(results)
        with self._lock:
            for r, problem in zip(results, problems, strict=True):
                if problem is None:
                    self._known_models.add(r.model.version)
        return problems
