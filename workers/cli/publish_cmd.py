"""`adgen publish FILE`: send a JSON-lines file of campaign events, one report line per line.

Every line stands on its own: blank lines are reported and skipped, undecodable (non-UTF-8) and
invalid lines are reported with their reason and skipped, and the valid ones are sent. The run
always ends with a summary. Reasons are printed as plain text (escaped control characters, no
Rich markup), since they quote the input.

Exit codes: 0 every event line was sent (blank lines are fine); 1 the file cannot be read;
2 one or more lines were rejected (invalid, undecodable or longer than 1 MiB), the rest sent;
3 the broker failed: that line and the ones after it were not sent.

`--bundle N` sends valid lines N to a message (the worker still admits, claims and records each
event on its own); a line is reported when its message goes out.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

if TYPE_CHECKING:  # shared.publisher imports Celery: only when the command runs
    from shared.publisher import LineResult

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """`text` safe for a terminal: control characters (escape sequences) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _say(text: str, err: bool = False) -> None:
    typer.echo(plain(text), err=err)


def _report(result: LineResult) -> None:
    where = f"line {result.lineno}"
    match result.outcome:
        case "sent":
            _say(f"{where}: published {result.detail or '(unvalidated)'}")
        case "blank":
            _say(f"{where}: blank, skipped")
        case "rejected":
            _say(f"{where}: rejected: {result.detail}", err=True)
        case "undecodable":
            _say(f"{where}: skipped: {result.detail}", err=True)
        case "broker_error":
            _say(f"{where}: not sent, stopping: {result.detail}", err=True)


def _open(source: str) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    try:
        return open(source, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        _say(f"cannot read {source}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc


def publish(
    source: Annotated[str, typer.Argument(help="JSONL file of events, or - for stdin")],
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Send lines as-is (the worker rejects bad ones)")
    ] = False,
    max_retries: Annotated[
        int,
        typer.Option(min=0, help="Retries per event while the broker is unreachable (then exit 3)"),
    ] = 5,
    bundle: Annotated[
        int,
        typer.Option(
            min=1,
            help="Events per message: several small events in one message cost the worker "
            "one broker delivery, one claim and one commit (at most ADGEN_BUNDLE_MAX_EVENTS)",
        ),
    ] = 1,
) -> None:
    """Publish campaign events; each line is reported. Exit 0 all sent, 1 unreadable file,
    2 some lines rejected, 3 broker failure."""
    from shared.config import get_settings
    from shared.publisher import Publisher, publish_lines, read_lines

    cap = get_settings().bundle_max_events
    if bundle > cap:
        _say(
            f"--bundle {bundle} is more than a bundle may hold (ADGEN_BUNDLE_MAX_EVENTS={cap})",
            err=True,
        )
        raise typer.Exit(1)
    stream = _open(source)
    publisher = Publisher(max_retries=max_retries)
    try:
        summary = publish_lines(
            publisher,
            read_lines(stream),
            validate=not no_validate,
            report=_report,
            bundle=bundle,
        )
    finally:
        publisher.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    tail = (
        ""
        if summary.stopped_at is None
        else f"; broker failed at line {summary.stopped_at}: it and later lines not sent"
    )
    _say(
        f"published {summary.sent}, rejected {summary.rejected}, "
        f"undecodable {summary.undecodable}, blank {summary.blank}{tail}"
    )
    raise typer.Exit(summary.exit_code)
