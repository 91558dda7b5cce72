"""Real services for integration tests: a fresh Postgres database, a RabbitMQ vhost, a
SeaweedFS S3 server on free ports, and real `celery worker` processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_ADMIN = os.environ.get("ADGEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
RABBIT = os.environ.get("ADGEN_TEST_RABBIT", "amqp://guest:guest@127.0.0.1:5672")
REDIS = os.environ.get("ADGEN_TEST_REDIS", "redis://127.0.0.1:6379")
S3_KEY, S3_SECRET = "adgen-test", "adgen-test-secret-9f2c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"adgen_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def rabbit_vhost() -> Iterator[str]:
    """A private vhost so tests never see each other's queues."""
    vhost = f"adgen-test-{uuid.uuid4().hex[:8]}"
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield f"{RABBIT}/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


def weed_binary() -> str:
    exe = Path(sys.executable).parent / "weed"
    return str(exe) if exe.exists() else (shutil.which("weed") or "weed")


@dataclass
class SeaweedS3:
    proc: subprocess.Popen[bytes]
    port: int
    root: Path

    def url(self, bucket: str) -> str:
        return f"s3://{S3_KEY}:{S3_SECRET}@127.0.0.1:{self.port}/{bucket}"

    def stop(self) -> None:
        # SeaweedFS shuts down slowly: signal by PID, then kill if it lingers.
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_seaweed(root: Path, port: int | None = None, timeout_s: float = 60) -> SeaweedS3:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    cfg = {
        "identities": [
            {
                "name": "adgen",
                "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (root / "s3.json").write_text(json.dumps(cfg))
    s3_port = port or free_port()
    p = [free_port() for _ in range(9)]
    cmd = [
        weed_binary(),
        "server",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={p[0]}",
        f"-master.port.grpc={p[1]}",
        f"-volume.port={p[2]}",
        f"-volume.port.grpc={p[3]}",
        f"-filer.port={p[4]}",
        f"-filer.port.grpc={p[5]}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={p[6]}",
        f"-s3.config={root / 's3.json'}",
        f"-s3.port.iceberg={p[7]}",
        f"-s3.port.lance={p[8]}",
        "-metricsPort=0",
        "-volume.max=300",
        "-master.volumeSizeLimitMB=16",
        "-volume.preStopSeconds=0",
    ]
    log = open(root / "weed.log", "ab")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = SeaweedS3(proc, s3_port, root)
    from shared.storage import open_store

    store = open_store(server.url("probe"))
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            store.ensure_bucket()
            return server
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"SeaweedFS did not start; see {root / 'weed.log'}") from None
            time.sleep(0.5)


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "ready." in self.log() and "model sha256:" in self.log():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}:\n{self.log()[-3000:]}")
            time.sleep(0.3)
        raise TimeoutError(f"worker not ready in {timeout_s}s:\n{self.log()[-3000:]}")

    def terminate(self, timeout_s: float = 60) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        return self.kill()

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)


def start_worker(
    env: dict[str, str],
    log_path: Path,
    name: str = "cpu",
    extra: list[str] | None = None,
    metrics_port: int = 0,
    concurrency: int | None = None,
) -> WorkerProcess:
    """A real `celery worker` (one pinned CPU worker, as `adgen worker --devices cpu` starts)."""
    from workers.launcher import WorkerSpec, child_command, child_env

    spec = WorkerSpec(name=name, device="cpu", cuda_visible="")
    full_env = child_env(spec, base=env, metrics_port=metrics_port)
    log = open(log_path, "ab")  # noqa: SIM115
    cmd = child_command(spec, "INFO", extra, concurrency=concurrency)
    proc = subprocess.Popen(
        cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return WorkerProcess(proc, log_path)


def start_supervised(
    env: dict[str, str], log_path: Path, devices: str = "cpu", role: str = "generate"
) -> WorkerProcess:
    """`adgen worker --devices cpu`: the supervisor that restarts a worker that died."""
    full = {
        **env,
        "ADGEN_METRICS_PORT": env.get("ADGEN_METRICS_PORT", "0"),
        "PYTHONUNBUFFERED": "1",
    }
    log = open(log_path, "ab")  # noqa: SIM115
    cmd = [sys.executable, "-m", "workers.cli.main", "worker", "--devices", devices, "--role", role]
    proc = subprocess.Popen(
        cmd, env=full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return WorkerProcess(proc, log_path)
