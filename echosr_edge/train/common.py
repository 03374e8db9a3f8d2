"""What every trainer shares: seeding, device choice, batching of numpy arrays."""

from __future__ import annotations

import random
from typing import Callable

import numpy as np
import torch

EpochCallback = Callable[[dict], None]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(requested: str = "auto") -> torch.device:
    """'auto' → CUDA when present, else CPU; or the device named."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


@torch.no_grad()
def predict_batches(model: torch.nn.Module, inputs: np.ndarray, batch: int = 16) -> np.ndarray:
    """Run ``model`` over N×1×H×W float32 inputs in batches on the CPU; returns numpy outputs."""
    model.eval()
    outs = [model(torch.from_numpy(inputs[i : i + batch])).numpy() for i in range(0, len(inputs), batch)]
    return np.concatenate(outs) if outs else np.empty((0,), np.float32)
