"""Shared fixtures: isolated settings, a tiny seeded model, and the real services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from shared.config import reset_settings_cache

TINY_GAN = {"z_dim": 16, "ngf": 4, "ndf": 4, "cond_hidden": 16}


def _has_cuda() -> bool:
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not _has_cuda():
            item.add_marker(skip_gpu)


@pytest.fixture
def adgen_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Embedded settings under a temp ADGEN_HOME; yields the env a child process needs."""
    for key in list(os.environ):
        if key.startswith("ADGEN_"):
            monkeypatch.delenv(key)
    env = {"ADGEN_HOME": str(tmp_path / "home")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    yield env
    reset_settings_cache()


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], **values: str) -> None:
    for k, v in values.items():
        env[k] = v
        monkeypatch.setenv(k, v)
    reset_settings_cache()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded, untrained, tiny generator checkpoint (fast to load and run)."""
    from shared.generation import save_untrained_model

    return save_untrained_model(tmp_path_factory.mktemp("tiny-model"), seed=0, **TINY_GAN)


@pytest.fixture(scope="session")
def tiny_runtime(tiny_model_dir: Path) -> object:
    """The tiny model with the real MiniLM text encoder, loaded once per test session."""
    from shared.generation import GeneratorRuntime

    return GeneratorRuntime.load(tiny_model_dir, "cpu")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests.support.services import start_seaweed

    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    yield server
    server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    from shared.db.migrate import upgrade
    from tests.support.services import postgres_database

    with postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    from tests.support.services import rabbit_vhost

    with rabbit_vhost() as url:
        yield url
