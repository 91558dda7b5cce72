"""Device/precision defaults: bf16 autocast only where the hardware runs it natively."""

from __future__ import annotations

import pytest
import torch

from shared.training import loop
from shared.training.loop import resolve_channels_last, resolve_precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("fast_bf16", [True, False])
def test_auto_uses_bf16_on_cpu_only_with_bf16_units(
    monkeypatch: pytest.MonkeyPatch, fast_bf16: bool
) -> None:
    # On an AVX2-only CPU bf16 autocast is emulated: one training step took 16 s instead of 1 s.
    monkeypatch.setattr(loop, "cpu_has_fast_bf16", lambda: fast_bf16)
    assert resolve_precision("auto", CPU) is fast_bf16


def test_explicit_precision_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "cpu_has_fast_bf16", lambda: False)
    assert resolve_precision("bf16", CPU) is True
    monkeypatch.setattr(loop, "cpu_has_fast_bf16", lambda: True)
    assert resolve_precision("fp32", CPU) is False


def test_cpu_capability_probe_answers() -> None:
    assert isinstance(loop.cpu_has_fast_bf16(), bool)


def test_channels_last_default() -> None:
    assert resolve_channels_last(None, CPU, bf16=False) is True
    assert resolve_channels_last(None, torch.device("cuda"), bf16=False) is False
    assert resolve_channels_last(None, torch.device("cuda"), bf16=True) is True
    assert resolve_channels_last(False, CPU, bf16=True) is False
