"""`adgen feedback ...`, `adgen select`, `adgen simulate`: the feedback loop's command line."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    help="Impressions, clicks and conversions in; serving plan out.", no_args_is_help=True
)
console = Console(width=None if sys.stdout.isatty() else 160)


def _lines(source: str) -> Iterator[tuple[int, str]]:
    stream = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    with stream:
        for lineno, line in enumerate(stream, 1):
            if line.strip():
                yield lineno, line.strip()


def _item(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return line  # intake rejects it as malformed, with the line as payload


@app.command("ingest")
def ingest(
    source: Annotated[str, typer.Argument(help="JSONL file of feedback events, or -")],
) -> None:
    """Bulk-load feedback from a file straight into the database (same checks as the queue)."""
    from shared.config import get_settings
    from shared.feedback.service import ingest_delivery

    batch = get_settings().feedback_max_batch
    total: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    chunk: list[Any] = []

    def flush() -> None:
        result = ingest_delivery(chunk)
        total["stored"] += result.stored
        total["duplicates"] += result.duplicates
        rejected.update(result.rejected)
        chunk.clear()

    for _lineno, line in _lines(source):
        chunk.append(_item(line))
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    console.print(
        f"stored {total['stored']}, duplicates {total['duplicates']}, "
        f"rejected {sum(rejected.values())} {dict(rejected) or ''}"
    )
    if rejected:
        raise typer.Exit(2)


@app.command("publish")
def publish(
    source: Annotated[str, typer.Argument(help="JSONL file of feedback events, or -")],
) -> None:
    """Validate feedback events and send them to the `adgen.feedback` queue in batches."""
    from shared.feedback.publish import FeedbackPublisher, InvalidFeedback

    pub = FeedbackPublisher()
    good: list[Any] = []
    bad = 0
    for lineno, line in _lines(source):
        try:
            good.extend(_wire([_item(line)]))
        except InvalidFeedback as exc:
            bad += 1
            console.print(f"[red]line {lineno}: rejected: {exc}[/]")
    deliveries = pub.publish_batch(good, validate=False) if good else 0
    pub.close()
    console.print(f"published {len(good)} events in {deliveries} deliveries, rejected {bad}")
    if bad:
        raise typer.Exit(2)


def _wire(items: list[Any]) -> list[dict[str, Any]]:
    from shared.feedback.publish import InvalidFeedback, to_wire

    if not isinstance(items[0], dict):
        raise InvalidFeedback("not a JSON object")
    return to_wire(items)


@app.command("refresh")
def refresh(
    campaign: Annotated[list[str] | None, typer.Option(help="Only these campaigns")] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="uniform | thompson_flat | thompson_quality (default ADGEN_FEEDBACK_POLICY)"
        ),
    ] = None,
    no_retire: Annotated[bool, typer.Option("--no-retire", help="Do not retire losers")] = False,
) -> None:
    """Roll up feedback and refresh the serving plan now (what Celery beat runs periodically)."""
    from shared.feedback.service import refresh_serving

    result = refresh_serving(policy=policy, campaign_ids=campaign, retire_losers=not no_retire)
    console.print_json(json.dumps(result.as_dict()))


@app.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(help="Deliveries in flight (threads)")] = 4,
    beat: Annotated[bool, typer.Option(help="Also run Celery beat (one per deployment)")] = False,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """Consume `adgen.feedback` (and, with --beat, schedule the plan refresh)."""
    from workers.launcher import feedback_worker_command

    cmd = feedback_worker_command(concurrency, loglevel=loglevel, beat=beat)
    os.execv(sys.executable, cmd)


def select_cmd(
    campaign: Annotated[str, typer.Option(help="Campaign id")],
    size: Annotated[str, typer.Option(help="Placement size, e.g. 300x250")],
    segment: Annotated[str, typer.Option(help="Audience segment")],
    seed: Annotated[int | None, typer.Option(help="Seed the draw (reproducible)")] = None,
) -> None:
    """Draw one creative from the serving plan; prints its id and selection probability."""
    import numpy as np

    from shared.config import get_settings
    from shared.db.engine import session_scope
    from shared.feedback.plan import select_creative

    with session_scope(get_settings().resolved_database_url) as s:
        pick = select_creative(
            session=s,
            campaign=campaign,
            size=size,
            segment=segment,
            rng=np.random.default_rng(seed),
        )
    if pick is None:
        console.print(f"[red]nothing servable for {campaign} {size} {segment}[/]")
        raise typer.Exit(1)
    print(
        json.dumps(
            {
                "creative_id": pick.creative_id,
                "selection_probability": pick.probability,
                "campaign": campaign,
                "size": size,
                "segment": segment,
            }
        )
    )


def simulate_cmd(
    policy: Annotated[
        str, typer.Option(help="uniform | thompson_flat | thompson_quality | all")
    ] = "all",
    impressions: Annotated[int, typer.Option(help="Impressions per policy")] = 100_000,
    round_size: Annotated[int, typer.Option(help="Impressions between plan refreshes")] = 2500,
    seed: Annotated[int, typer.Option(help="World and audience seed")] = 0,
    direct: Annotated[
        bool,
        typer.Option(
            "--direct", help="In-process instead of through the broker and a feedback worker"
        ),
    ] = False,
) -> None:
    """Synthetic audience through the loop (docs/feedback.md). Without --direct a feedback worker
    (`adgen feedback worker`) must be consuming the configured broker."""
    from rich.table import Table

    from shared.config import get_settings
    from shared.feedback import simrun

    settings = get_settings()
    policies = ["uniform", "thompson_flat", "thompson_quality"] if policy == "all" else [policy]
    transport: simrun.Transport = (
        simrun.DirectTransport(settings) if direct else simrun.BrokerTransport(settings)
    )
    table = Table(title=f"{impressions:,} simulated impressions per policy (seed {seed})")
    for col in (
        "policy",
        "CTR",
        "expected CTR",
        "share of oracle",
        "final plan share",
        "regret (clicks)",
        "lag p50 s",
    ):
        table.add_column(col)
    run_tag = f"{int(time.time()):x}"  # a fresh campaign per run: runs never mix
    for pol in policies:
        s = simrun.run(
            policy=pol,
            transport=transport,
            settings=settings,
            impressions=impressions,
            round_size=round_size,
            seed=seed,
            campaign=f"sim-{pol.replace('_', '-')}-{seed}-{run_tag}",
        ).summary()
        table.add_row(
            pol,
            f"{s['ctr']:.4f}",
            f"{s['expected_ctr']:.4f}",
            f"{s['share_of_oracle']:.1%}",
            f"{s['final_plan_share']:.1%}",
            f"{s['regret_clicks']:.0f}",
            f"{s['lag_p50_s']:.2f}",
        )
    console.print(table)
