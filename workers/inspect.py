"""`adgen workers status`: the live workers, their devices, queues and what they are doing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.events import peek_event_id
from workers.app import make_app


@dataclass
class WorkerInfo:
    name: str
    queues: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)  # event ids being processed
    reserved: int = 0
    pool: str = ""
    concurrency: int = 0
    processed: int = 0

    @property
    def device(self) -> str:
        base = self.name.split("@", 1)[0]
        return f"GPU {base[3:].split('-')[0]}" if base.startswith("gpu") else "cpu"


def pool_name(implementation: str) -> str:
    """ "celery.concurrency.thread:TaskPool" -> "threads": every pool class is called TaskPool,
    so the module is what tells them apart; named as `celery worker --pool` spells it."""
    module = implementation.split(":", 1)[0].rsplit(".", 1)[-1]
    return {"thread": "threads"}.get(module, module)


def _event_id(task: dict[str, Any]) -> str:
    args = task.get("args") or []
    return (peek_event_id(args[0]) if args else None) or str(task.get("id", "?"))


def collect(timeout: float = 2.0) -> list[WorkerInfo]:
    app = make_app()  # the broker of the settings now, not of whoever imported workers.app first
    try:
        insp = app.control.inspect(timeout=timeout)
        queues = insp.active_queues() or {}
        active = insp.active() or {}
        reserved = insp.reserved() or {}
        stats = insp.stats() or {}
    finally:
        app.close()
    out = []
    for name in sorted(set(queues) | set(stats)):
        st = stats.get(name, {})
        pool = st.get("pool", {})
        total = st.get("total", {})
        out.append(
            WorkerInfo(
                name=name,
                queues=[q["name"] for q in queues.get(name, [])],
                active=[_event_id(t) for t in active.get(name, [])],
                reserved=len(reserved.get(name, [])),
                pool=pool_name(str(pool.get("implementation", ""))),
                concurrency=int(pool.get("max-concurrency", 0) or 0),
                processed=int(sum(total.values())) if isinstance(total, dict) else 0,
            )
        )
    return out
