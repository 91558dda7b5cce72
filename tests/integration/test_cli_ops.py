"""The operator's commands against the real services: `adgen publish`, `adgen status`,
`adgen workers status`, and that no command prints a password when a service is unreachable."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from kombu import Connection, Producer
from sqlalchemy import select
from typer.testing import CliRunner

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import RejectedEvent
from shared.publisher import Publisher, PublishError
from shared.queues import GENERATE_QUEUE, PROCESS_BUNDLE_TASK
from shared.samples import sample_events
from tests.conftest import set_env
from tests.integration.conftest import wait_terminal
from tests.support.services import S3_SECRET, WorkerProcess, free_port
from workers.cli.main import app

pytestmark = pytest.mark.integration


def _event_line(event_id: str) -> bytes:
    ev = sample_events("cli", sizes=["300x250"])[0].model_copy(update={"event_id": event_id})
    return ev.canonical_json().encode()


def _queued_event_ids(url: str) -> list[str]:
    """Drain adgen.generate and return the event ids of the task messages on it, in order."""
    ids = []
    with Connection(url) as conn:
        channel = conn.default_channel
        while (msg := channel.basic_get(GENERATE_QUEUE, no_ack=True)) is not None:
            args, _kwargs, _embed = json.loads(msg.body)
            ids.append(json.loads(args[0])["event_id"])
    return ids


def _rejections(db_url: str) -> list[tuple[str | None, str]]:
    with session_scope(db_url) as s:
        rows = s.execute(select(RejectedEvent).order_by(RejectedEvent.id)).scalars()
        return [(r.event_id, r.reason) for r in rows]


def _queue_depth(url: str) -> int:
    with Connection(url) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue=GENERATE_QUEUE, passive=True)
        return int(count)


@pytest.fixture
def broker_env(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, rabbit_url: str
) -> Iterator[str]:
    set_env(monkeypatch, adgen_env, ADGEN_BROKER_URL=rabbit_url)
    yield rabbit_url


def test_publish_treats_every_line_on_its_own_and_sends_exactly_the_valid_ones(
    broker_env: str, tmp_path: Path
) -> None:
    lines = [
        _event_line("cli-a"),  # 1 sent
        b"",  # 2 blank
        b'{"schema_version": "[/]"}',  # 3 reason contains [/]
        b"\xff\xfe not utf-8 " + _event_line("cli-bad-bytes"),  # 4 undecodable
        b'{"schema_version": "[red]x[/red]", "event_id": "cli-r"}',  # 5 markup-like reason
        b"   \r",  # 6 blank (whitespace, CRLF)
        b'{"event_id": "cli-invalid", "type": "nope"}',  # 7 invalid
        _event_line("cli-b") + b"\r",  # 8 sent (CRLF line end)
        b"{not json",  # 9 not JSON
        _event_line("cli-c"),  # 10 sent, no final newline
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines))

    res = CliRunner().invoke(app, ["publish", str(path)])

    assert res.exit_code == 2, res.output
    out, err = res.stdout, res.stderr
    assert "line 1: published cli-a" in out and "line 8: published cli-b" in out
    assert "line 10: published cli-c" in out
    assert "line 2: blank, skipped" in out and "line 6: blank, skipped" in out
    assert "line 3: rejected: unsupported schema_version '[/]'" in err  # verbatim, no crash
    assert "line 5: rejected: unsupported schema_version '[red]x[/red]'" in err
    assert "line 4: skipped: not UTF-8 (byte 0xff at 0)" in err
    assert "line 7: rejected: invalid event" in err and "line 9: rejected:" in err
    assert out.strip().splitlines()[-1] == ("published 3, rejected 4, undecodable 1, blank 2")
    assert _queued_event_ids(broker_env) == ["cli-a", "cli-b", "cli-c"]


def test_publish_from_stdin_all_valid_exits_zero(broker_env: str) -> None:
    data = _event_line("cli-s1") + b"\n\n" + _event_line("cli-s2") + b"\n"
    res = CliRunner().invoke(app, ["publish", "-"], input=data)
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[-1] == "published 2, rejected 0, undecodable 0, blank 1"
    assert _queued_event_ids(broker_env) == ["cli-s1", "cli-s2"]


def test_publish_no_validate_sends_invalid_lines_but_not_undecodable_ones(
    broker_env: str, tmp_path: Path
) -> None:
    path = tmp_path / "raw.jsonl"
    path.write_bytes(b'{"event_id": "raw-1", "type": "nope"}\n\xc3\x28\n')
    res = CliRunner().invoke(app, ["publish", "--no-validate", str(path)])
    assert res.exit_code == 2, res.output
    assert "line 1: published (unvalidated)" in res.stdout
    assert "line 2: skipped: not UTF-8" in res.stderr
    assert _queued_event_ids(broker_env) == ["raw-1"]


def test_publish_bundle_sends_valid_lines_n_to_a_message(broker_env: str, tmp_path: Path) -> None:
    path = tmp_path / "bundled.jsonl"
    lines = [_event_line(f"cli-b{i}") for i in range(5)]
    lines.insert(2, b'{"event_id": "cli-invalid", "type": "nope"}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    res = CliRunner().invoke(app, ["publish", "--bundle", "2", str(path)])
    assert res.exit_code == 2, res.output
    assert "line 3: rejected: invalid event" in res.stderr
    assert res.stdout.strip().splitlines()[-1] == "published 5, rejected 1, undecodable 0, blank 0"
    messages = []
    with Connection(broker_env) as conn:
        channel = conn.default_channel
        while (msg := channel.basic_get(GENERATE_QUEUE, no_ack=True)) is not None:
            assert msg.headers["task"] == PROCESS_BUNDLE_TASK
            (members,), kwargs, _embed = json.loads(msg.body)
            assert kwargs == {}
            messages.append([json.loads(m["raw"])["event_id"] for m in members])
    assert messages == [["cli-b0", "cli-b1"], ["cli-b2", "cli-b3"], ["cli-b4"]]
    too_many = CliRunner().invoke(app, ["publish", "--bundle", "100000", str(path)])
    assert too_many.exit_code == 1 and "ADGEN_BUNDLE_MAX_EVENTS" in too_many.stderr


def test_publish_missing_file_exits_one(adgen_env: dict[str, str], tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["publish", str(tmp_path / "absent.jsonl")])
    assert res.exit_code == 1 and "cannot read" in res.stderr


# --- an unreachable service never shows its password ---------------------------------------

SECRET = "s3cr3t-Pw-7f1"


def _dead_url(scheme: str, path: str) -> str:
    return f"{scheme}://adgen:{SECRET}@127.0.0.1:{free_port()}/{path}"


def test_publish_broker_failure_stops_with_exit_3_and_no_password(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_env(monkeypatch, adgen_env, ADGEN_BROKER_URL=_dead_url("amqp", "vh"))
    with pytest.raises(PublishError) as info:
        Publisher(max_retries=0).publish(_event_line("dead-0").decode())
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)

    path = tmp_path / "e.jsonl"
    path.write_bytes(_event_line("dead-1") + b"\n" + _event_line("dead-2") + b"\n")
    res = CliRunner().invoke(app, ["publish", "--max-retries", "0", str(path)])
    assert res.exit_code == 3, res.output
    assert "line 1: not sent, stopping" in res.stderr and "line 2" not in res.output
    assert "broker failed at line 1" in res.stdout
    assert SECRET not in res.output


def test_status_with_unreachable_database_names_it_without_password(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, adgen_env, ADGEN_DATABASE_URL=_dead_url("postgresql", "adgen"))
    res = CliRunner().invoke(app, ["status", "evt-1"])
    assert res.exit_code == 1
    assert "cannot read the database at postgresql+psycopg://adgen:***@127.0.0.1" in res.stderr
    assert SECRET not in res.output


def test_workers_status_with_unreachable_broker_names_it_without_password(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, adgen_env, ADGEN_BROKER_URL=_dead_url("amqp", "vh"))
    started = time.monotonic()
    res = CliRunner().invoke(app, ["workers", "status", "--timeout", "1"])
    assert res.exit_code == 1, res.output
    assert "cannot reach the broker at amqp://adgen:***@127.0.0.1" in res.stderr
    assert SECRET not in res.output
    assert time.monotonic() - started < 60


# --- adgen status / adgen workers status against a live worker ------------------------------


def test_status_of_unknown_event_exits_one_and_prints_the_id_verbatim(
    pg_url: str, adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, adgen_env, ADGEN_DATABASE_URL=pg_url)
    res = CliRunner().invoke(app, ["status", "[/]nope"])
    assert res.exit_code == 1 and "no event '[/]nope'" in res.stderr


def _wait_for(check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def _publish_bare_messages(url: str) -> None:
    """Messages that are not Celery task messages: JSON without a task header, and bytes."""
    with Connection(url) as conn:
        producer = Producer(conn.default_channel)
        route = {"exchange": GENERATE_QUEUE, "routing_key": GENERATE_QUEUE, "delivery_mode": 2}
        producer.publish(
            json.dumps({"event_id": "bare-1"}),
            content_type="application/json",
            content_encoding="utf-8",
            **route,
        )
        producer.publish(
            b"\x00bare-bytes",
            content_type="application/octet-stream",
            content_encoding="binary",
            **route,
        )


def test_live_worker_status_bare_messages_and_event_status(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess]
) -> None:
    """One worker start (the slow part) for three things: `adgen workers status` idle and with
    an event in flight, what Celery does with non-task messages, and `adgen status` of the
    finished event."""
    settings = get_settings()
    worker = worker_factory(stack, name="cpu")
    res = CliRunner().invoke(app, ["workers", "status", "--timeout", "3"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.stdout.splitlines() if "cpu@" in line)
    for cell in ("cpu", "threads x8", GENERATE_QUEUE, "idle"):
        assert cell in row, row

    # Messages that are not task messages never reach the pipeline. The worker's consumer
    # records each as a rejection (ERROR line, rejected_events, dead letter); Celery still logs
    # its own line (WARNING with the body for JSON, CRITICAL for other content) and deletes it.
    _publish_bare_messages(settings.resolved_broker_url)
    _wait_for(lambda: worker.log().count("refused a broker message") >= 2, 30)
    log = worker.log()
    assert "WARNING cpu@" in log and "Received and deleted unknown message" in log
    assert "CRITICAL cpu@" in log and "ContentDisallowed" in log
    assert "ERROR cpu@" in log and "{'event_id': 'bare-1'}" in log
    assert S3_SECRET not in log  # the worker logs its storage and broker URLs redacted
    reasons = _rejections(settings.resolved_database_url)
    assert reasons[0][0] == "bare-1" and "not a task message" in reasons[0][1]
    assert "undecodable message (application/octet-stream" in reasons[1][1]

    # Hold the events table so the worker's claim waits (lock_timeout is 15 s): the event is
    # then in flight for as long as this transaction lasts.
    pg = settings.resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
    ev = sample_events("cli-live", sizes=["300x250"])[0]
    with psycopg.connect(pg) as conn:
        conn.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        Publisher().publish(ev)

        def shows_event() -> bool:
            r = CliRunner().invoke(app, ["workers", "status", "--timeout", "2"])
            return ev.event_id in r.stdout

        try:
            _wait_for(shows_event, 10)
        finally:
            conn.rollback()

    assert wait_terminal(settings.resolved_database_url, [ev.event_id]) == {ev.event_id: "done"}
    assert _queue_depth(settings.resolved_broker_url) == 0  # the bare messages are gone too
    res = CliRunner().invoke(app, ["status", ev.event_id])
    assert res.exit_code == 0, res.output
    assert "status               done" in res.stdout
    res = CliRunner().invoke(app, ["status", ev.event_id, "--json"])
    info = json.loads(res.stdout)
    assert info["status"] == "done" and info["creatives"] == ev.creative_count
    assert len(info["objects"]) == ev.creative_count
    assert all(k.startswith(f"creatives/{ev.campaign.id}/{ev.event_id}/") for k in info["objects"])
