"""Fault-injection suite: real services, real worker processes, each test bounded in time.

Every test publishes a stream of events while the fault happens, then checks the invariants:
every event reaches a terminal state, none is lost, and no creative is duplicated
(objects in S3 = rows in Postgres = creatives requested).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Creative, Event
from shared.events import CampaignEvent
from shared.samples import sample_events
from shared.storage import open_store
from tests.integration.conftest import (  # noqa: F401  (re-exported fixtures)
    stack,
    wait_terminal,
    worker_factory,
)

pytestmark = pytest.mark.integration


def stream(prefix: str, n: int, sizes: list[str] | None = None) -> list[CampaignEvent]:
    base = sample_events(prefix, sizes=sizes or ["300x250"])
    return [
        base[i % len(base)].model_copy(update={"event_id": f"{prefix}-{i:04d}"}) for i in range(n)
    ]


def wait_all_terminal(ids: list[str], timeout_s: float = 240) -> dict[str, str]:
    return wait_terminal(get_settings().resolved_database_url, ids, timeout_s)


def assert_exactly_once(events: list[CampaignEvent]) -> dict[str, int]:
    """S3 objects = DB rows = requested, for every event that is done."""
    s = get_settings()
    store = open_store(s.resolved_storage_url)
    with session_scope(s.resolved_database_url) as sess:
        rows = dict(
            sess.execute(select(Creative.event_id, func.count()).group_by(Creative.event_id)).all()
        )
        status = dict(sess.execute(select(Event.event_id, Event.status)).all())
    objects: dict[str, int] = {}
    for key in store.list("creatives/"):
        eid = key.split("/")[2]
        objects[eid] = objects.get(eid, 0) + 1
    for ev in events:
        if status.get(ev.event_id) == "done":
            assert rows.get(ev.event_id) == ev.creative_count, ev.event_id
            assert objects.get(ev.event_id) == ev.creative_count, ev.event_id
    done = [e for e in events if status.get(e.event_id) == "done"]
    return {
        "published": len(events),
        "done": len(done),
        "creatives": sum(rows.get(e.event_id, 0) for e in done),
        "objects": sum(objects.get(e.event_id, 0) for e in done),
    }
