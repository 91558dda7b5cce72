"""Style is enforced, not hoped for: the suite fails when ruff would reformat or flag code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["shared", "workers", "bench", "tests"]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_code_is_formatted() -> None:
    out = _ruff("format", "--check")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_lint_is_clean() -> None:
    out = _ruff("check")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
