"""Review app benchmark on the demo data (embedded defaults: SQLite + local file store).

    ADGEN_HOME=DIR adgen demo --count 6              # the demo data: 60 creatives
    python -m bench.bench_web --home DIR [--requests 600] [--keyboard 50] [--shots docs/images]

1. Prepares the home: two accounts, ten creatives approved and served for a week of simulated
   feedback (ingested and rolled up by the feedback loop's own code), the serving plan refreshed.
2. Starts a real `adgen web` process and times GET/POST requests from one client (sequential,
   so each figure is one request's latency; the client runs on the same 2 cores).
3. A reviewer in headless Chromium logs in and decides `--keyboard` creatives with the keyboard
   (a = approve, every fifth r + reason + Enter; n for the next batch), timed from the login
   page to the last decision stored.
4. Screenshots of the queue and the performance page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from shared.config import get_settings, reset_settings_cache
from shared.db.engine import dispose_engines, session_scope
from shared.db.models import Creative, Event
from shared.feedback.service import ingest_delivery, refresh_serving
from shared.review.approval import approve_many
from shared.review.models import CreativeDecision, ReviewUser
from shared.review.users import add_user
from tests.support.review_factory import feedback_events
from tests.support.web import chromium, log_in, start_web

PASSWORD = "bench-password-1"


def prepare(served: int = 10, days: int = 7, per_day: int = 150) -> list[str]:
    """Accounts, approvals and a week of feedback; returns the served creatives' ids."""
    url = get_settings().resolved_database_url
    with session_scope(url) as s:
        for name, role in (("bench-admin", "admin"), ("bench-rev", "reviewer")):
            if s.get(ReviewUser, name) is None:
                add_user(session=s, username=name, password=PASSWORD, role=role)
        rows = s.execute(
            select(
                Creative.creative_id,
                Creative.campaign_id,
                Creative.size,
                Event.payload["audience"]["segment"].as_string(),
            )
            .join(Event, Event.event_id == Creative.event_id)
            .where(Creative.servable.is_(True))
            .order_by(Creative.created_at, Creative.creative_id)
        ).all()
        chosen = rows[:served]
        approve_many(session=s, creative_ids=[r[0] for r in chosen], actor="bench-admin")
    ctx = {cid: (camp, size, seg or "all") for cid, camp, size, seg in chosen}
    ctr = {cid: 0.01 + 0.006 * (i % 5) for i, cid in enumerate(ctx)}
    events = feedback_events(ctx, ctr, days=days, per_day=per_day, seed=1)
    for i in range(0, len(events), 1000):
        ingest_delivery(events[i : i + 1000])
    refresh_serving(settings=get_settings(), retire_losers=False, seed=0, publish=lambda _e: None)
    return list(ctx)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(
    base: str, rounds: int, ids: list[str], campaign: str, server_pid: int
) -> dict[str, Any]:
    """Per-route latency over `rounds` passes through a fixed route list, and the server's CPU
    time per request (which the machine's other load does not inflate the way it does wall
    time)."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    resp = client.post(
        "/login", data={"username": "bench-rev", "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 303, resp.text
    token = client.get("/queue").text.split('name="csrf-token" content="')[1].split('"')[0]
    post = {"X-CSRF-Token": token, "X-Requested-With": "fetch"}
    target = ids[0]
    routes: list[tuple[str, Any]] = [
        ("GET /queue", lambda: client.get("/queue")),
        (
            "GET /queue?status=all&size=300x250&min_alignment=0.2",
            lambda: client.get("/queue?status=all&size=300x250&min_alignment=0.2"),
        ),
        (
            "GET /queue?status=approved&campaign=…",
            lambda: client.get(f"/queue?status=approved&campaign={campaign}"),
        ),
        ("GET /creatives/{id}", lambda: client.get(f"/creatives/{target}")),
        ("GET /images/{id}", lambda: client.get(f"/images/{target}")),
        ("GET /performance", lambda: client.get("/performance")),
        ("GET /performance?campaign=…", lambda: client.get(f"/performance?campaign={campaign}")),
        (
            "GET /performance/ctr.png?campaign=…",
            lambda: client.get(f"/performance/ctr.png?campaign={campaign}"),
        ),
        ("GET /audit", lambda: client.get("/audit")),
        (
            "POST /decisions (reject)",
            lambda: client.post(
                "/decisions",
                headers=post,
                data={"creative_id": target, "decision": "reject", "reason_code": "layout"},
            ),
        ),
        (
            "POST /decisions (undo)",
            lambda: client.post(
                "/decisions", headers=post, data={"creative_id": target, "decision": "undo"}
            ),
        ),
    ]
    for _name, call in routes:  # warm-up: imports, template compilation, caches
        call()
    times: dict[str, list[float]] = {name: [] for name, _c in routes}
    cpu: dict[str, float] = dict.fromkeys(times, 0.0)
    for _ in range(rounds):
        for name, call in routes:
            c0, t0 = cpu_seconds(server_pid), time.perf_counter()
            r = call()
            times[name].append((time.perf_counter() - t0) * 1000)
            cpu[name] += cpu_seconds(server_pid) - c0  # 10 ms ticks: exact only as a sum
            assert r.status_code < 400, (name, r.status_code, r.text[:300])
    server_cpu_ms = sum(cpu.values()) * 1000
    every = [t for v in times.values() for t in v]
    per_route = {
        n: {
            "p50": statistics.median(v),
            "p95": _pct(v, 0.95),
            "max": max(v),
            "server_cpu_ms": cpu[n] * 1000 / len(v),
        }
        for n, v in times.items()
    }
    return {
        "requests": len(every),
        "server_cpu_ms_per_request": server_cpu_ms / len(every),
        "p50_ms": statistics.median(every),
        "p95_ms": _pct(every, 0.95),
        "p99_ms": _pct(every, 0.99),
        "routes": per_route,
    }


def keyboard_run(base: str, n: int) -> dict[str, Any]:
    """A reviewer decides `n` awaiting creatives by keyboard; seconds from the login page to the
    n-th decision stored."""
    url = get_settings().resolved_database_url

    def stored() -> int:
        with session_scope(url) as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(CreativeDecision)
                    .where(CreativeDecision.actor == "bench-rev")
                )
                or 0
            )

    before = stored()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        t0 = time.perf_counter()
        log_in(page, base, "bench-rev", PASSWORD)
        done = batches = 0
        while done < n:
            batches += 1
            cards = page.locator(".card.state-pending, .card.state-auto").count()
            if cards == 0:
                break  # nothing left to decide
            for _ in range(min(cards, n - done)):
                if done % 5 == 4:
                    page.keyboard.press("r")
                    page.locator("#reject-dialog[open]").wait_for()
                    page.keyboard.press("4")
                    page.keyboard.press("Enter")
                else:
                    page.keyboard.press("a")
                done += 1
            if done < n:
                # `n` waits for the decisions in flight, then reloads: the next batch.
                with page.expect_navigation():
                    page.keyboard.press("n")
                page.wait_for_selector("body[data-ready='1']")
        deadline = time.monotonic() + 120
        while stored() - before < done and time.monotonic() < deadline:
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
    return {
        "creatives": n,
        "seconds": seconds,
        "decisions_stored": stored() - before,
        "console_errors": errors,
    }


def screenshots(base: str, out: Path, campaign: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1050})
        log_in(page, base, "bench-admin", PASSWORD)
        page.goto(f"{base}/queue?status=all")
        page.wait_for_selector("body[data-ready='1']")
        page.keyboard.press("j")
        page.wait_for_load_state("networkidle")
        paths.append(out / "review_queue.png")
        page.screenshot(path=str(paths[-1]))
        page.set_viewport_size({"width": 1400, "height": 1500})
        page.goto(f"{base}/performance?campaign={campaign}")
        page.wait_for_load_state("networkidle")
        paths.append(out / "review_performance.png")
        page.screenshot(path=str(paths[-1]), full_page=False)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="ADGEN_HOME with the demo data")
    ap.add_argument("--requests", type=int, default=50, help="rounds over the route list")
    ap.add_argument("--keyboard", type=int, default=50, help="creatives to decide (0: skip)")
    ap.add_argument("--shots", type=Path, default=None, help="write screenshots here")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    # Work on a copy: the demo data stays as `adgen demo` left it, and runs are repeatable.
    work = Path(tempfile.mkdtemp(prefix="adgen-bench-web-")) / "home"
    shutil.copytree(args.home, work, ignore=shutil.ignore_patterns("broker", "*.log"))
    args.home = work
    os.environ["ADGEN_HOME"] = str(args.home)
    reset_settings_cache()
    served = prepare()
    with session_scope(get_settings().resolved_database_url) as s:
        campaign = s.scalar(select(Creative.campaign_id).where(Creative.creative_id == served[0]))
        total = s.scalar(select(func.count()).select_from(Creative))
    web = start_web({"ADGEN_HOME": str(args.home)}, args.home / "bench-web.log")
    try:
        result: dict[str, Any] = {"creatives": total, "load_avg": os.getloadavg()}
        result["latency"] = latency(web.url, args.requests, served, str(campaign), web.proc.pid)
        if args.shots:
            result["screenshots"] = [
                str(p) for p in screenshots(web.url, args.shots, str(campaign))
            ]
        if args.keyboard:
            result["keyboard"] = keyboard_run(web.url, args.keyboard)
    finally:
        web.stop()
        dispose_engines()
        shutil.rmtree(work.parent, ignore_errors=True)
    print(json.dumps(result, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
