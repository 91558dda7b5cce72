from __future__ import annotations

import pytest

from workers.launcher import child_command, child_env, worker_specs


def test_cpu_and_indexed_devices() -> None:
    assert [s.name for s in worker_specs("cpu")] == ["cpu"]
    specs = worker_specs("0,1", per_device=2)
    assert [s.name for s in specs] == ["gpu0-0", "gpu0-1", "gpu1-0", "gpu1-1"]
    assert {s.cuda_visible for s in specs} == {"0", "1"}
    assert all(s.device == "cuda:0" for s in specs)  # each child sees one device


def test_all_uses_gpu_count_and_fails_clearly_without_gpus() -> None:
    assert [s.name for s in worker_specs("all", gpu_count=3)] == ["gpu0", "gpu1", "gpu2"]
    with pytest.raises(ValueError, match="no NVIDIA GPU"):
        worker_specs("all", gpu_count=0)
    for bad in ("gpu", "0,0", ""):
        with pytest.raises(ValueError):
            worker_specs(bad)


def test_child_is_pinned_and_consumes_its_queues() -> None:
    spec = worker_specs("1")[0]
    env = child_env(spec, base={"PATH": "/bin"})
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and env["ADGEN_DEVICE"] == "cuda:0"
    assert env["ADGEN_WORKER_NAME"].startswith("gpu1@")
    cmd = child_command(spec)
    assert "adgen.generate,adgen.generate.gpu1" in cmd
    assert cmd[cmd.index("--pool") + 1] == "threads"  # one model, many events in flight
    cpu_env = child_env(worker_specs("cpu")[0], base={})
    assert cpu_env["CUDA_VISIBLE_DEVICES"] == "" and cpu_env["ADGEN_DEVICE"] == "cpu"


def test_task_events_only_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.config import reset_settings_cache
    from workers.app import make_app

    spec = worker_specs("cpu")[0]
    for value, on in (("0", False), ("1", True)):
        monkeypatch.setenv("ADGEN_TASK_EVENTS", value)
        reset_settings_cache()
        assert ("--task-events" in child_command(spec)) is on
        app = make_app()
        assert app.conf.worker_send_task_events is on and app.conf.task_send_sent_event is on
    monkeypatch.delenv("ADGEN_TASK_EVENTS")
    reset_settings_cache()


def test_prefetch_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker and launcher hold the same number of unacked messages per event thread; late
    acks stay on whatever it is (each message is acked after its outcome is recorded)."""
    from shared.config import reset_settings_cache
    from workers.app import make_app

    spec = worker_specs("cpu")[0]
    for value in ("1", "4"):
        monkeypatch.setenv("ADGEN_WORKER_PREFETCH_MULTIPLIER", value)
        reset_settings_cache()
        cmd = child_command(spec)
        assert cmd[cmd.index("--prefetch-multiplier") + 1] == value
        app = make_app()
        assert app.conf.worker_prefetch_multiplier == int(value)
        assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    monkeypatch.setenv("ADGEN_WORKER_PREFETCH_MULTIPLIER", "0")
    reset_settings_cache()
    with pytest.raises(ValueError):
        make_app()
    monkeypatch.delenv("ADGEN_WORKER_PREFETCH_MULTIPLIER")
    reset_settings_cache()
