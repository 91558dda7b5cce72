"""Exponential moving average of generator weights; the averaged copy is what we sample from."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, beta: float = 0.999) -> None:
        self.beta = beta
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def beta_at(self, step: int) -> float:
        # Warm up: early on the average would mostly remember the random initialisation.
        return min(self.beta, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        beta = self.beta_at(step)
        for avg, cur in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(cur.detach(), 1.0 - beta)
        for buf, cur_buf in zip(self.model.buffers(), model.buffers(), strict=True):
            buf.copy_(cur_buf)
