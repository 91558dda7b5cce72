"""Reading a JSON-lines file line by line and the outcome of each line (no broker: the
publisher here records what it is given; the real one is tested in tests/integration)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from shared.events import Rejection
from shared.publisher import (
    InvalidEvent,
    LineResult,
    Publisher,
    PublishError,
    PublishSummary,
    SourceLine,
    publish_lines,
    read_lines,
)
from workers.cli.publish_cmd import plain


def _lines(data: bytes, max_bytes: int = 1 << 20) -> list[SourceLine]:
    return list(read_lines(io.BytesIO(data), max_bytes))


def test_each_line_is_decoded_on_its_own() -> None:
    got = _lines(b'\xef\xbb\xbf{"a": 1}\r\n\n  \t\r\n\xff{}\n\xe6\x97\xa5\xe6\x9c\xac\n{"b": 2}')
    assert [(x.lineno, x.kind, x.text) for x in got] == [
        (1, "event", '{"a": 1}'),
        (2, "blank", ""),
        (3, "blank", ""),
        (4, "undecodable", ""),
        (5, "event", "日本"),
        (6, "event", '{"b": 2}'),
    ]
    assert got[3].detail == "not UTF-8 (byte 0xff at 0)"


def test_an_overlong_line_is_skipped_whole_and_reading_goes_on() -> None:
    data = b"x" * 50 + b"\n" + b"y" * 35 + b"\n" + b"z" * 20 + b"\n" + b"w" * 31
    got = _lines(data, max_bytes=30)
    assert [(x.lineno, x.kind) for x in got] == [
        (1, "too_long"),
        (2, "too_long"),
        (3, "event"),
        (4, "too_long"),
    ]
    assert got[2].text == "z" * 20 and got[0].detail == "longer than 30 bytes"
    assert [x.kind for x in _lines(b"a" * 30 + b"\n", max_bytes=30)] == ["event"]


class RecordingPublisher(Publisher):
    """Validates like the real one; "sends" into a list, and fails from the `fail_at`th send."""

    def __init__(self, fail_at: int | None = None) -> None:  # no broker connection
        self.sent: list[str] = []
        self.fail_at = fail_at

        self.messages: list[list[str]] = []
        self._bundle_max = 64

    def prepare(self, event: Any, validate: bool = True) -> tuple[str, str | None]:
        if validate and "bad" in event:
            raise InvalidEvent(Rejection(reason="invalid event: [red]type[/]"))
        return event, None

    def publish(self, event: Any, *, validate: bool = True) -> str | None:
        return self.publish_bundle([event], validate=validate)[0]

    def publish_bundle(self, events: Any, *, validate: bool = True) -> list[str | None]:
        for e in events:
            self.prepare(e, validate)
        if self.fail_at is not None and len(self.messages) + 1 >= self.fail_at:
            raise PublishError("broker did not accept event x: connection refused")
        self.messages.append(list(events))
        self.sent.extend(events)
        return [f"id{len(self.sent) - len(events) + i + 1}" for i in range(len(events))]


def _run(
    publisher: RecordingPublisher, data: bytes, bundle: int = 1
) -> tuple[PublishSummary, list[LineResult]]:
    results: list[LineResult] = []
    summary = publish_lines(
        publisher, read_lines(io.BytesIO(data)), report=results.append, bundle=bundle
    )
    return summary, results


def test_outcomes_counts_and_exit_codes() -> None:
    pub = RecordingPublisher()
    summary, results = _run(pub, b"ok1\n\nbad\n\xff\nok2\n")
    assert [(r.lineno, r.outcome) for r in results] == [
        (1, "sent"),
        (2, "blank"),
        (3, "rejected"),
        (4, "undecodable"),
        (5, "sent"),
    ]
    assert results[2].detail == "invalid event: [red]type[/]"
    assert (summary.sent, summary.rejected, summary.blank, summary.undecodable) == (2, 1, 1, 1)
    assert summary.exit_code == 2 and pub.sent == ["ok1", "ok2"]
    assert _run(RecordingPublisher(), b"ok\n\n\n")[0].exit_code == 0  # blank lines are fine
    assert _run(RecordingPublisher(), b"ok\n\xc3\n")[0].exit_code == 2  # undecodable is not


def test_broker_failure_stops_at_that_line() -> None:
    pub = RecordingPublisher(fail_at=2)
    summary, results = _run(pub, b"ok1\nbad\nok2\nok3\n")
    assert [(r.lineno, r.outcome) for r in results] == [
        (1, "sent"),
        (2, "rejected"),
        (3, "broker_error"),
    ]
    assert summary.stopped_at == 3 and summary.exit_code == 3 and pub.sent == ["ok1"]


def test_bundled_lines_go_out_n_to_a_message_and_rejections_stay_per_line() -> None:
    pub = RecordingPublisher()
    summary, results = _run(pub, b"ok1\nbad\nok2\n\nok3\nok4\n", bundle=2)
    assert pub.messages == [["ok1", "ok2"], ["ok3", "ok4"]]
    assert sorted((r.lineno, r.outcome) for r in results) == [
        (1, "sent"),
        (2, "rejected"),
        (3, "sent"),
        (4, "blank"),
        (5, "sent"),
        (6, "sent"),
    ]
    assert (summary.sent, summary.rejected, summary.exit_code) == (4, 1, 2)
    pub = RecordingPublisher()
    _run(pub, b"a\nb\nc\n", bundle=2)
    assert pub.messages == [["a", "b"], ["c"]]  # the last, short bundle is sent too


def test_a_broker_failure_on_a_bundle_stops_at_its_first_line() -> None:
    pub = RecordingPublisher(fail_at=2)
    summary, results = _run(pub, b"ok1\nok2\nok3\nok4\nok5\n", bundle=2)
    assert [(r.lineno, r.outcome) for r in results] == [
        (1, "sent"),
        (2, "sent"),
        (3, "broker_error"),
        (4, "broker_error"),
    ]
    assert summary.stopped_at == 3 and summary.exit_code == 3 and pub.sent == ["ok1", "ok2"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("reason [/] [red]x", "reason [/] [red]x"),
        ("\x1b[31mred\x07", "\\x1b[31mred\\x07"),
        ("tab\tok 日本", "tab\tok 日本"),
        ("c1\x9bcontrol", "c1\\x9bcontrol"),
    ],
)
def test_reasons_are_plain_text_without_terminal_controls(text: str, shown: str) -> None:
    assert plain(text) == shown
