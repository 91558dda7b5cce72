"""Data-parallel training across processes (torchrun): one rank per GPU or CPU worker.

    torchrun --nproc_per_node 2 -m workers.cli.main train --distributed --data D --out RUN ...

torchrun sets the rendezvous variables; ``init_process_group`` reads them itself.  Every rank
builds the same networks from the same seed (and rank 0's weights are broadcast anyway, which
also covers --resume/--init-from), trains on its own shard of the catalog with its own data,
noise and augmentation seeds, and averages gradients with one all-reduce per update.  Only rank
0 writes (options, log, samples, checkpoints).

Gradients are averaged by hand rather than through the ``DistributedDataParallel`` wrapper on
purpose: the step calls the discriminator through several methods (features, logits, the
matching-aware gradient penalty's double backward), and DDP only synchronises gradients of
calls that go through ``forward`` and does not support double backward.  One flattened
all-reduce per module after ``backward()`` is exactly DDP's arithmetic (mean of the ranks'
gradients), for any call pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1

    @property
    def writer(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def seed_offset(self) -> int:
        return 1_000_003 * self.rank  # 0 on rank 0: a single process trains as before

    def average_gradients(self, module: nn.Module) -> None:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not self.active or not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def broadcast(self, *modules: nn.Module) -> None:
        """Rank 0's parameters and buffers everywhere (identical starts, resumes included)."""
        if not self.active:
            return
        with torch.no_grad():
            for module in modules:
                for t in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(t.data, src=0)

    def agree(self, flag: bool) -> bool:
        """Rank 0's decision (e.g. a STOP file it saw) on every rank, so all stop together."""
        if not self.active:
            return flag
        t = torch.tensor([int(flag)])
        dist.broadcast(t, src=0)
        return bool(t.item())


def init_ranks(device: torch.device) -> tuple[Ranks, torch.device]:
    """Join the process group torchrun set up; returns the ranks and this rank's device."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    ranks = Ranks(dist.get_rank(), dist.get_world_size())
    if device.type == "cuda":
        device = torch.device("cuda", ranks.rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    return ranks, device


def close_ranks(ranks: Ranks) -> None:
    if ranks.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
