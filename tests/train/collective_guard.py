"""Records the device of every tensor handed to a torch.distributed collective (used inside torchrun workers)."""

from __future__ import annotations

import torch
import torch.distributed as dist

COLLECTIVES = ("all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
               "reduce_scatter_tensor", "all_to_all", "all_to_all_single", "gather", "scatter")


def group_device() -> torch.device:
    """The device the process group moves tensors on: NCCL → this rank's GPU, gloo → the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def guard_collectives() -> list[dict]:
    """Wrap the collectives of torch.distributed; each call appends {collective, device, group_device}."""
    calls: list[dict] = []
    for name in COLLECTIVES:
        original = getattr(dist, name, None)
        if original is None:
            continue

        def checked(*args, _name=name, _original=original, **kwargs):
            values = list(args) + list(kwargs.values())
            tensors = [v for v in values if isinstance(v, torch.Tensor)]
            tensors += [t for v in values if isinstance(v, (list, tuple)) for t in v if isinstance(t, torch.Tensor)]
            expected = str(group_device())
            calls.extend({"collective": _name, "device": str(t.device), "group_device": expected} for t in tensors)
            return _original(*args, **kwargs)

        setattr(dist, name, checked)
    return calls
