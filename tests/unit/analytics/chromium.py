"""Headless Chromium for report checks: a screenshot and the parsed DOM."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(page: Path, extra: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    exe = chromium_binary()
    assert exe is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )


def screenshot(page: Path, out: Path, size: str = "1400,2000", timeout_s: float = 90) -> Path:
    proc = _run(page, [f"--screenshot={out}", f"--window-size={size}"], timeout_s)
    if not out.is_file():
        raise RuntimeError(
            f"chromium wrote no screenshot (rc {proc.returncode}):\n{proc.stderr[-2000:]}"
        )
    return out


def dump_dom(page: Path, timeout_s: float = 90) -> str:
    """The DOM after parsing (what the browser built, not the bytes we wrote)."""
    proc = _run(page, ["--dump-dom"], timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium --dump-dom failed: {proc.stderr[-2000:]}")
    return proc.stdout
