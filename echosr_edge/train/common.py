"""What every trainer shares: seeding, RNG state, device choice, mixed precision, batching."""

from __future__ import annotations

import contextlib
import random
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

EpochCallback = Callable[[dict], None]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def capture_rng(generator: np.random.Generator) -> dict:
    """Every random state a trainer draws from, as values ``torch.load(weights_only=True)`` reads."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "trainer": generator.bit_generator.state,
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, generator: np.random.Generator) -> None:
    """Put back what :func:`capture_rng` saved (the trainer's generator is updated in place)."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    generator.bit_generator.state = state["trainer"]


def pick_device(requested: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' → CUDA when present (this process's GPU under torchrun), else CPU; or the device named."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(requested)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def uses_amp(device: torch.device, amp: bool) -> bool:
    """Mixed precision runs on CUDA only; CPU training stays in float32."""
    return amp and device.type == "cuda"


def autocast(device: torch.device, enabled: bool):
    """float16 autocast on CUDA when ``enabled``; a no-op context otherwise."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.float16)


def grad_scaler(device: torch.device, enabled: bool) -> torch.amp.GradScaler:
    """A gradient scaler, active only with mixed precision."""
    return torch.amp.GradScaler(device.type, enabled=enabled)


def plain_config(config) -> dict:
    """A config dataclass as JSON-ready values (paths as strings)."""
    values = asdict(config) if is_dataclass(config) else dict(config)
    return {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}


@torch.no_grad()
def predict_batches(model: torch.nn.Module, inputs: np.ndarray, batch: int = 16) -> np.ndarray:
    """Run ``model`` over N×1×H×W float32 inputs in batches on its device; returns numpy outputs."""
    model.eval()
    device = next(model.parameters()).device
    outs = [
        model(torch.from_numpy(inputs[i : i + batch]).to(device)).float().cpu().numpy()
        for i in range(0, len(inputs), batch)
    ]
    return np.concatenate(outs) if outs else np.empty((0,), np.float32)
