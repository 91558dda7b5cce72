"""`adgen worker`: one Celery worker process per device, each pinned before CUDA starts.

The launcher never imports torch.cuda or touches a GPU: it only decides device assignments and
starts `celery worker` children with CUDA_VISIBLE_DEVICES set, so each child sees exactly one
device as cuda:0. Each child runs Celery's threads pool: the main thread keeps broker heartbeats
flowing, `concurrency` events are in flight at once, and their image requests are merged into
one generator forward pass by the process's micro-batcher (workers/context.py). Hard time limits
are enforced by a watchdog that restarts the process (workers/watchdog.py).
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from shared.queues import GENERATE_QUEUE, RENDER_QUEUE, device_queue

log = logging.getLogger("adgen.launcher")


@dataclass(frozen=True)
class WorkerSpec:
    name: str  # e.g. "gpu0" or "cpu", unique per host
    device: str  # torch device inside the child: "cuda:0" or "cpu"
    cuda_visible: str  # value of CUDA_VISIBLE_DEVICES for the child ("" hides all GPUs)
    role: str = "generate"  # or "render": the CPU stage (prefork processes, no device)
    processes: int = 1  # render role: pool processes

    @property
    def queues(self) -> list[str]:
        if self.role == "render":
            return [RENDER_QUEUE]
        return [GENERATE_QUEUE, device_queue(self.name)]


def render_specs(processes: int) -> list[WorkerSpec]:
    """CPU render workers: one Celery worker with a prefork pool of `processes`."""
    if processes < 1:
        raise ValueError("--processes must be at least 1")
    return [
        WorkerSpec(name="render", device="cpu", cuda_visible="", role="render", processes=processes)
    ]


def count_gpus() -> int:
    """GPUs on this host, asked of nvidia-smi so this process never initialises CUDA."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20, check=True)
    except (subprocess.SubprocessError, OSError):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def worker_specs(
    devices: str, per_device: int = 1, gpu_count: int | None = None
) -> list[WorkerSpec]:
    """`cpu`, `all` or `0,1` -> one spec per (device, replica)."""
    if per_device < 1:
        raise ValueError("--per-device must be at least 1")
    devices = devices.strip().lower()
    if devices == "cpu":
        ids: list[str | None] = [None]
    elif devices == "all":
        n = count_gpus() if gpu_count is None else gpu_count
        if n == 0:
            raise ValueError("--devices all: no NVIDIA GPU found on this host; use --devices cpu")
        ids = [str(i) for i in range(n)]
    else:
        parts = [p.strip() for p in devices.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise ValueError(f"--devices must be cpu, all or indices like 0,1 (got {devices!r})")
        if len(set(parts)) != len(parts):
            raise ValueError("--devices lists a device twice")
        ids = list(parts)
    specs = []
    for dev in ids:
        for r in range(per_device):
            base = "cpu" if dev is None else f"gpu{dev}"
            name = base if per_device == 1 else f"{base}-{r}"
            specs.append(
                WorkerSpec(
                    name=name,
                    device="cpu" if dev is None else "cuda:0",
                    cuda_visible="" if dev is None else dev,
                )
            )
    return specs


def child_command(
    spec: WorkerSpec,
    loglevel: str = "INFO",
    extra: list[str] | None = None,
    concurrency: int | None = None,
) -> list[str]:
    from shared.config import get_settings

    if spec.role == "render":
        pool, concurrency = "prefork", spec.processes
    else:
        pool = "threads"
        if concurrency is None:
            concurrency = get_settings().worker_concurrency
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{spec.name}@%h",
        "--queues",
        ",".join(spec.queues),
        "--prefetch-multiplier",
        str(get_settings().worker_prefetch_multiplier),
        "--without-mingle",
        "--without-gossip",
        *(["--task-events"] if get_settings().task_events else []),
        "--loglevel",
        loglevel,
        *(extra or []),
    ]


def child_env(
    spec: WorkerSpec, base: dict[str, str] | None = None, metrics_port: int | None = None
) -> dict[str, str]:
    from shared.config import inherited_environment

    env = inherited_environment() if base is None else dict(base)
    if metrics_port is not None:
        env["ADGEN_METRICS_PORT"] = str(metrics_port)
    env["CUDA_VISIBLE_DEVICES"] = spec.cuda_visible
    env["ADGEN_DEVICE"] = spec.device
    env["ADGEN_WORKER_ROLE"] = spec.role
    env["ADGEN_WORKER_NAME"] = f"{spec.name}@{socket.gethostname()}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class Supervisor:
    """Starts the children, restarts one that dies (with backoff), forwards SIGTERM for a warm
    shutdown: running batches finish and are acked before the children exit."""

    def __init__(
        self, specs: list[WorkerSpec], loglevel: str = "INFO", extra_args: list[str] | None = None
    ) -> None:
        self.specs = specs
        self.loglevel = loglevel
        self.extra_args = extra_args or []
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {}
        self.stopping = False

    def start(self, spec: WorkerSpec) -> None:
        from shared.config import get_settings

        base_port = get_settings().metrics_port
        port = base_port + self.specs.index(spec) if base_port else 0
        cmd = child_command(spec, self.loglevel, self.extra_args)
        self.procs[spec.name] = subprocess.Popen(cmd, env=child_env(spec, metrics_port=port))
        log.info(
            "started worker %s (pid %d) on %s",
            spec.name,
            self.procs[spec.name].pid,
            spec.device if spec.device == "cpu" else f"GPU {spec.cuda_visible}",
        )

    def stop(self, *_: object) -> None:
        self.stopping = True
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for spec in self.specs:
            self.start(spec)
        by_name = {s.name: s for s in self.specs}
        while True:
            alive = {n: p for n, p in self.procs.items() if p.poll() is None}
            if self.stopping and not alive:
                return 0
            if not self.stopping:
                for name, p in self.procs.items():
                    if p.poll() is not None:
                        n = self.restarts.get(name, 0) + 1
                        self.restarts[name] = n
                        delay = min(30.0, 2.0 ** min(n, 5))
                        log.error(
                            "worker %s exited with %s; restart %d in %.0fs",
                            name,
                            p.returncode,
                            n,
                            delay,
                        )
                        time.sleep(delay)
                        if not self.stopping:
                            self.start(by_name[name])
            time.sleep(0.5)


def feedback_worker_command(
    concurrency: int = 4,
    hostname: str = "feedback@%h",
    loglevel: str = "INFO",
    beat: bool = False,
) -> list[str]:
    """The feedback consumer (`adgen feedback worker`): its own Celery app, no model."""
    from shared.queues import FEEDBACK_QUEUE

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.feedback_app",
        "worker",
        "--queues",
        FEEDBACK_QUEUE,
        "--pool",
        "threads",
        "--concurrency",
        str(concurrency),
        "--hostname",
        hostname,
        "--prefetch-multiplier",
        "1",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        loglevel,
        *(["--beat"] if beat else []),
    ]
