"""Data-parallel training under ``torchrun`` (DDP): NCCL on GPUs, gloo on CPUs.

A trainer runs unchanged in one process or in N: :func:`distributed_from_env` joins the process
group torchrun describes in the environment (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), every
rank draws the same seeded batch order and takes its share of each global batch
(:func:`shard`), gradients are averaged by DDP, and only rank 0 writes files. Batch sizes in the
configs are global (the paper's batch 16 stays 16 however many processes share it).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: rank, world size, and its GPU index on the node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    joined: bool = False  # a process group exists (torchrun, even with one process)

    @property
    def enabled(self) -> bool:
        return self.joined or self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """The current process group's view, or a single process when there is none."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), joined=True)
    return DistInfo()


@contextlib.contextmanager
def distributed_from_env(device: str = "auto") -> Iterator[DistInfo]:
    """Join torchrun's process group when the environment describes one; leave it afterwards.

    ``device`` picks the backend: NCCL when training runs on CUDA, gloo otherwise. Under torchrun
    a single process joins too (``--nproc_per_node 1``), so one GPU runs the same collectives as many.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    torchrun = "TORCHELASTIC_RUN_ID" in os.environ and "MASTER_ADDR" in os.environ
    started = False
    if (world > 1 or torchrun) and not dist.is_initialized():
        use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
        backend = "nccl" if use_cuda else "gloo"
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend=backend)
        started = True
        log.info("joined a %s process group: rank %d of %d", backend, dist.get_rank(), world)
    try:
        yield dist_info()
    finally:
        if started:
            dist.destroy_process_group()


def wrap(model: nn.Module, device: torch.device, info: DistInfo) -> nn.Module:
    """``model`` under DistributedDataParallel when the job has several processes."""
    if not info.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return getattr(model, "module", model)


def shard(indices: np.ndarray, info: DistInfo) -> np.ndarray:
    """This rank's share of one global batch; the batch is trimmed so every rank gets as many.

    Every rank must take the same number of optimiser steps, or DDP's all-reduce waits forever.
    """
    if not info.enabled:
        return indices
    usable = len(indices) - len(indices) % info.world_size
    return indices[:usable][info.rank :: info.world_size]


def collective_device() -> torch.device:
    """Where the process group's collectives take their tensors: this rank's GPU under NCCL, else the CPU.

    NCCL only moves CUDA tensors (a CPU tensor fails the first all-reduce); gloo takes CPU ones.
    """
    if dist.is_available() and dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_across(value: float, info: DistInfo) -> float:
    """The mean of a per-rank number over all ranks (for logging losses)."""
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=collective_device())
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def sync_buffers(modules: list[nn.Module], info: DistInfo) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every rank.

    DDP averages gradients, so parameters agree; running statistics are updated from each rank's
    own share of the batch and would drift apart without this. A buffer that lives elsewhere than
    the group's device travels through a copy there and back.
    """
    if not info.enabled:
        return
    device = collective_device()
    for module in modules:
        for buffer in unwrap(module).buffers():
            if buffer.device == device:
                dist.broadcast(buffer.data, src=0)
            else:
                staged = buffer.data.to(device)
                dist.broadcast(staged, src=0)
                buffer.data.copy_(staged)
