"""The README's demo command and the deployment files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def test_embedded_demo_runs_with_no_servers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADGEN_")}
    env["ADGEN_HOME"] = str(tmp_path / "home")
    out = tmp_path / "sheet.png"
    proc = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "demo", "--out", str(out), "--timeout", "300"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=420,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for kind in ("product_display", "cart", "recommendation", "brand"):
        assert kind in proc.stdout
    assert "contact sheet" in proc.stdout and "embedded" in proc.stdout
    sheet = Image.open(out)
    assert sheet.width >= 1000 and sheet.height >= 200
    assert not (REPO / "control").exists()  # broker state stays under ADGEN_HOME


@pytest.mark.skipif(shutil.which("docker-compose") is None and shutil.which("docker") is None,
                    reason="docker-compose not installed (scripts/services.sh installs it)")
def test_compose_file_is_valid() -> None:
    exe = shutil.which("docker-compose")
    cmd = [exe] if exe else ["docker", "compose"]
    env = {**os.environ, "POSTGRES_PASSWORD": "p", "RABBITMQ_PASSWORD": "r",
           "MINIO_ROOT_USER": "u", "MINIO_ROOT_PASSWORD": "m"}
    proc = subprocess.run([*cmd, "-f", str(REPO / "docker" / "compose.yaml"), "config"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "worker-gpu0" in proc.stdout and "device_ids" in proc.stdout
    # Secrets are mandatory: without them the file refuses to render.
    bare = {k: v for k, v in env.items() if k not in ("POSTGRES_PASSWORD",)}
    proc = subprocess.run([*cmd, "-f", str(REPO / "docker" / "compose.yaml"), "config"],
                          env=bare, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "POSTGRES_PASSWORD" in (proc.stderr + proc.stdout)
