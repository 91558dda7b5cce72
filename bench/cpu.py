"""CPU seconds by service, read from /proc (Linux): where a benchmark's CPU time went.

Groups every process on the host by what it is (our worker, Postgres, RabbitMQ, the S3 server,
this benchmark process, everything else), so a run can say "per creative: worker X ms,
Postgres Y ms, ..." without a profiler. Processes that exit between two samples lose their
share; the benchmark samples while the worker it measures is alive.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = (  # first match wins: (group, substrings of the command line)
    ("worker", ("celery", "workers.cli.main worker")),
    ("postgres", ("postgres",)),
    ("rabbitmq", ("beam.smp", "rabbitmq", "epmd", "erl_child_setup")),
    ("s3", ("weed",)),
)


def _group(pid: int, cmdline: str) -> str:
    if pid == os.getpid():
        return "bench"
    for name, needles in GROUPS:
        if any(n in cmdline for n in needles):
            return name
    return "other"


def cpu_by_group() -> dict[str, float]:
    """Total user+system CPU seconds of the live processes, per group."""
    out: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone in the meantime
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
        group = _group(int(entry.name), cmd or stat[stat.index("(") + 1 : stat.rindex(")")])
        out[group] = out.get(group, 0.0) + seconds
    return out


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: max(0.0, after.get(k, 0.0) - before.get(k, 0.0)) for k in after}
