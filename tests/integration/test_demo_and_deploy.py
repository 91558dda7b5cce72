"""The README's demo command and the deployment files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def test_embedded_demo_runs_with_no_servers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADGEN_")}
    env["ADGEN_HOME"] = str(tmp_path / "home")
    out = tmp_path / "sheet.png"
    proc = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "demo", "--out", str(out), "--timeout", "300"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for kind in ("product_display", "cart", "recommendation", "brand"):
        assert kind in proc.stdout
    assert "contact sheet" in proc.stdout and "embedded" in proc.stdout
    assert "uploaded the sample shop photo as catalog/" in proc.stdout  # and its event is done
    assert "-zh" in proc.stdout  # the Chinese-title event is in the summary
    sheet = Image.open(out)
    assert sheet.width >= 1000 and sheet.height >= 200
    assert not (REPO / "control").exists()  # broker state stays under ADGEN_HOME


def _compose_command() -> list[str] | None:
    """The first Compose that actually runs: the `docker compose` plugin or the standalone
    `docker-compose` (Debian package). A `docker` binary without the plugin does not count."""
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(cmd[0]) is None:
            continue
        try:
            ok = subprocess.run([*cmd, "version"], capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return cmd
    return None


COMPOSE = _compose_command()
needs_compose = pytest.mark.skipif(
    COMPOSE is None,
    reason="neither `docker compose` nor `docker-compose` runs here "
    "(scripts/services.sh installs Debian's docker-compose)",
)
SECRETS = {
    "POSTGRES_PASSWORD": "p",
    "RABBITMQ_PASSWORD": "r",
    "MINIO_ROOT_USER": "u",
    "MINIO_ROOT_PASSWORD": "m",
    "FLOWER_BASIC_AUTH": "ops:flowerpw",
}


def _compose_config(**env: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    base = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "OPS_BIND_ADDR"}
    return subprocess.run(
        [*COMPOSE, "-f", str(REPO / "docker" / "compose.yaml"), "config"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host address, host port) of a service's ports, in either Compose's output form."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):  # Compose v2: long syntax
            out.append((port.get("host_ip", ""), str(port.get("published", ""))))
        else:  # docker-compose 1.x: "127.0.0.1:5555:5555/tcp"
            parts = str(port).split(":")
            out.append((parts[0] if len(parts) == 3 else "", parts[-2]))
    return out


@needs_compose
def test_compose_file_is_valid_and_operator_uis_are_private() -> None:
    proc = _compose_config(**SECRETS)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(proc.stdout)
    services = config["services"]
    assert "device_ids" in proc.stdout and {"worker-gpu0", "worker-gpu1"} <= set(services)
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == "ops:flowerpw"
    for name, port in (("flower", "5555"), ("prometheus", "9090"), ("rabbitmq", "15672")):
        assert _published(services[name]) == [("127.0.0.1", port)], name
    proc = _compose_config(**SECRETS, OPS_BIND_ADDR="0.0.0.0")
    assert _published(yaml.safe_load(proc.stdout)["services"]["flower"]) == [("0.0.0.0", "5555")]


@needs_compose
@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_render_without_each_secret(secret: str) -> None:
    proc = _compose_config(**{k: v for k, v in SECRETS.items() if k != secret})
    assert proc.returncode != 0 and secret in (proc.stderr + proc.stdout)
