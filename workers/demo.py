"""`adgen demo`: the whole system on embedded defaults, or on whatever the ADGEN_* URLs say.

Applies migrations, starts a real worker process, uploads a sample shop photo, publishes sample
events of all four types plus one that shows the photo, waits for them, prints a summary and
writes a contact sheet of the creatives.
"""

from __future__ import annotations

import io
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from shared.config import Settings, get_settings
from shared.db.engine import session_scope
from shared.db.migrate import upgrade
from shared.db.models import TERMINAL_STATUSES, Creative, Event
from shared.events import CampaignEvent
from shared.generation import save_untrained_model
from shared.imaging import contact_sheet
from shared.photos.load import PhotoLimits
from shared.photos.upload import upload_photo
from shared.publisher import Publisher
from shared.samples import (
    SAMPLE_PHOTO_NAME,
    chinese_title_event,
    photo_event,
    sample_events,
    sample_product_photo,
)
from shared.storage import open_store, redact_url
from workers.launcher import WorkerSpec, child_command, child_env

SHEET_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def contact_sheet_path(out: Path) -> Path:
    """``--out``: an image path is used as it is; anything else (``~/out``, ``./runs/demo``) is
    a directory that gets ``contact_sheet.png``, so a missing suffix never fails after a run."""
    return out if out.suffix.lower() in SHEET_SUFFIXES else out / "contact_sheet.png"


@dataclass
class DemoResult:
    events: list[CampaignEvent]
    statuses: dict[str, str]
    creatives: int
    sheet_path: Path
    wall_s: float


def ensure_model(settings: Settings, console: Console) -> Path:
    """The configured model, or a seeded untrained one (said loudly) when none is there."""
    model_dir = settings.resolved_model_dir
    if (model_dir / "config.json").is_file():
        return model_dir
    fallback = settings.home / "models" / "untrained"
    if not (fallback / "config.json").is_file():
        save_untrained_model(fallback, seed=0)
    console.print(
        f"[bold yellow]No trained model at {model_dir}: running an UNTRAINED generator "
        f"({fallback}). Images will be noise-like.[/]"
    )
    return fallback


def upload_sample_photo(settings: Settings) -> str:
    """Put the demo's product photo into the catalog, as `adgen catalog upload` would."""
    store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
    store.ensure_bucket()
    photo_dir = settings.home / "sample-photos"
    photo_dir.mkdir(parents=True, exist_ok=True)
    path = photo_dir / SAMPLE_PHOTO_NAME
    path.write_bytes(sample_product_photo())
    result = upload_photo(store, path, PhotoLimits.from_settings(settings))
    if result.key is None:
        raise RuntimeError(f"the sample photo was rejected: {result.reason}")
    return result.key


def wait_for(
    event_ids: list[str], db_url: str, timeout_s: float, console: Console
) -> dict[str, str]:
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + timeout_s
    with Progress(
        TextColumn("waiting for events"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("events", total=len(event_ids))
        while time.monotonic() < deadline:
            with session_scope(db_url) as s:
                rows = s.execute(
                    select(Event.event_id, Event.status).where(Event.event_id.in_(event_ids))
                ).all()
            statuses = {eid: st for eid, st in rows}
            done = sum(1 for st in statuses.values() if st in TERMINAL_STATUSES)
            bar.update(task, completed=done)
            if done == len(event_ids):
                break
            time.sleep(0.5)
    return statuses


def run_demo(
    out: Path | None = None, timeout_s: float = 600, count: int = 1, console: Console | None = None
) -> DemoResult:
    console = console or Console()
    settings = get_settings()
    t_start = time.perf_counter()
    mode = "embedded (no servers)" if settings.embedded else "external services"
    console.print(f"[bold]AdGen demo[/] — {mode}; home {settings.home}")
    console.print(f"  broker   {redact_url(settings.resolved_broker_url)}")
    console.print(f"  database {redact_url(settings.resolved_database_url)}")
    console.print(f"  storage  {redact_url(settings.resolved_storage_url)}")
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    model_dir = ensure_model(settings, console)

    spec = WorkerSpec(name="demo-cpu", device="cpu", cuda_visible="")
    env = child_env(spec, metrics_port=0)
    env["ADGEN_MODEL_DIR"] = str(model_dir)
    env["ADGEN_HOME"] = str(settings.home)
    log_path = settings.home / "demo-worker.log"
    with open(log_path, "ab") as log_file:
        worker = subprocess.Popen(
            child_command(spec, "INFO"), env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    console.print(f"  worker   pid {worker.pid} (log: {log_path})")
    try:
        prefix = "demo-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        photo_key = upload_sample_photo(settings)
        events = [
            *sample_events(prefix, count=count),
            photo_event(prefix, photo_key),
            chinese_title_event(prefix),
        ]
        console.print(f"  uploaded the sample shop photo as {photo_key}")
        publisher = Publisher(settings)
        for ev in events:
            publisher.publish(ev)
        publisher.close()
        console.print(f"  published {len(events)} events ({', '.join(e.type for e in events)})")
        ids = [e.event_id for e in events]
        statuses = wait_for(ids, settings.resolved_database_url, timeout_s, console)
        if worker.poll() is not None:
            console.print(f"[red]worker exited early ({worker.returncode}); see {log_path}[/]")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()

    store = open_store(settings.resolved_storage_url, secure=settings.storage_secure)
    with session_scope(settings.resolved_database_url) as s:
        evs = {
            e.event_id: e for e in s.execute(select(Event).where(Event.event_id.in_(ids))).scalars()
        }
        creatives = (
            s.execute(
                select(Creative)
                .where(Creative.event_id.in_(ids))
                .order_by(Creative.event_id, Creative.index)
            )
            .scalars()
            .all()
        )

    table = Table(title="Demo events")
    for col in ("event", "type", "status", "creatives", "ms", "first object"):
        table.add_column(col)
    for ev in events:
        row = evs.get(ev.event_id)
        mine = [c for c in creatives if c.event_id == ev.event_id]
        table.add_row(
            ev.event_id,
            ev.type,
            row.status if row else "missing",
            str(len(mine)),
            f"{row.processing_ms:.0f}" if row and row.processing_ms else "-",
            mine[0].object_key if mine else (row.last_error or "-") if row else "-",
        )
    console.print(table)

    items = []
    for c in creatives:
        img = Image.open(io.BytesIO(store.get(c.object_key)))
        items.append((f"{c.ad_type} {c.size}\n{c.prompt[:40]}", img))
    sheet_path = out or settings.home / "contact_sheet.png"
    sheet_path.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(items, title=f"AdGen demo {prefix}: {len(items)} creatives").save(sheet_path)
    wall = time.perf_counter() - t_start
    ms = [float(evs[i].processing_ms or 0) for i in ids if i in evs and evs[i].processing_ms]
    servable = sum(1 for c in creatives if c.servable)
    console.print(
        f"{servable}/{len(creatives)} creatives passed the quality gate"
        + ("" if servable == len(creatives) else " (reasons in `adgen status` / report)")
    )
    console.print(
        f"{len(creatives)} creatives from {len(events)} events in {wall:.1f}s wall; "
        f"mean processing {sum(ms) / max(1, len(ms)):.0f} ms/event (worker side)"
    )
    console.print(f"images: {redact_url(settings.resolved_storage_url)}/creatives/…")
    console.print(f"contact sheet: {sheet_path}")
    return DemoResult(events, statuses, len(creatives), sheet_path, wall)
