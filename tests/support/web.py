"""The review app as a real `adgen web` process, and headless Debian Chromium driven by
Playwright (never a downloaded browser). Used by the browser tests and bench/bench_web.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.services import free_port

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class WebProcess:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 20) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_web(env: dict[str, str], log_path: Path, timeout_s: float = 90) -> WebProcess:
    """`adgen web` on a free port (migrations already applied); waits for /healthz."""
    port = free_port()
    full = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workers.cli.main",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-upgrade",
        ],
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web = WebProcess(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"adgen web exited with {proc.returncode}:\n{web.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{web.url}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return web
        except OSError:
            time.sleep(0.3)
    web.stop()
    raise TimeoutError(f"adgen web not ready after {timeout_s}s:\n{web.log()[-3000:]}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright `Browser`)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Debian chromium is not installed (scripts/services.sh installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/queue*")
    page.wait_for_selector("body[data-ready='1']")
