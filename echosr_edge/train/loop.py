"""The epoch loop every trainer shares: per-epoch training state, resume, metrics JSON lines.

After each epoch rank 0 writes the whole training state atomically — model and optimiser
weights, gradient scalers, every RNG (Python, numpy global, torch, CUDA and the trainer's own
generator), the epoch and the history — so a run killed at any moment and started again with
``resume`` ends with the same weights as one that was never interrupted (same seed, same
device). The state file is a plain dict of tensors and numbers, read with weights_only=True.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from echosr_edge.errors import DataError
from echosr_edge.train.common import EpochCallback, capture_rng, restore_rng
from echosr_edge.train.distributed import DistInfo, sync_buffers, unwrap

log = logging.getLogger(__name__)

STATE_FORMAT = "echosr-edge-train-state"
STATE_VERSION = 1
# Config fields a resumed run may change: more epochs, another device, mixed precision on/off.
RESUMABLE_CHANGES = frozenset({"epochs", "device", "amp"})


@dataclass(frozen=True)
class Checkpointing:
    """Where a run keeps its per-epoch state and metrics, and whether to continue from the state."""

    state_path: Path | None = None
    metrics_path: Path | None = None
    resume: bool = False

    @classmethod
    def beside(cls, checkpoint: Path, resume: bool = False) -> "Checkpointing":
        """``model.pt`` → ``model.state.pt`` and ``model.metrics.jsonl`` beside it."""
        checkpoint = Path(checkpoint)
        return cls(checkpoint.with_suffix(".state.pt"), checkpoint.with_suffix(".metrics.jsonl"), resume)


@dataclass
class TrainParts:
    """What the loop saves and restores: modules, optimisers, scalers, the trainer's RNG, the config."""

    modules: dict[str, nn.Module]
    optimisers: dict[str, torch.optim.Optimizer]
    scalers: dict[str, torch.amp.GradScaler]
    rng: np.random.Generator
    config: dict
    info: DistInfo


def _save_state(path: Path, parts: TrainParts, epoch: int, history: list[dict]) -> None:
    state = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "epoch": epoch,
        "config": parts.config,
        "world_size": parts.info.world_size,
        "modules": {k: unwrap(m).state_dict() for k, m in parts.modules.items()},
        "optimisers": {k: o.state_dict() for k, o in parts.optimisers.items()},
        "scalers": {k: s.state_dict() for k, s in parts.scalers.items()},
        "rng": capture_rng(parts.rng),
        "history": history,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _load_state(path: Path, parts: TrainParts) -> tuple[int, list[dict]]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(path, f"not a readable training state ({type(exc).__name__})") from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise DataError(path, "not an echosr-edge training state")
    if state.get("version") != STATE_VERSION:
        raise DataError(path, f"training state version {state.get('version')} is not {STATE_VERSION}")
    saved = state["config"]
    changed = sorted(k for k in set(saved) | set(parts.config) if k not in RESUMABLE_CHANGES and saved.get(k) != parts.config.get(k))
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} then, {parts.config.get(k)!r} now" for k in changed)
        raise DataError(path, f"was written by a run with another config ({diffs}); resume with the same settings")
    if set(state["modules"]) != set(parts.modules):
        raise DataError(path, f"holds {sorted(state['modules'])}, this trainer has {sorted(parts.modules)}")
    if state.get("world_size", 1) != parts.info.world_size:
        log.warning("%s: resumed with %d processes, written with %d; batches are now shared differently",
                    path, parts.info.world_size, state.get("world_size", 1))
    for name, module in parts.modules.items():
        unwrap(module).load_state_dict(state["modules"][name])
    for name, optimiser in parts.optimisers.items():
        optimiser.load_state_dict(state["optimisers"][name])
    for name, scaler in parts.scalers.items():
        if state["scalers"].get(name):
            scaler.load_state_dict(state["scalers"][name])
    restore_rng(state["rng"], parts.rng)
    return int(state["epoch"]), list(state["history"])


def _write_metrics(path: Path | None, records: list[dict], append: bool) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a" if append else "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def fit(
    parts: TrainParts,
    epochs: int,
    run_epoch: Callable[[int], dict],
    checkpointing: Checkpointing | None = None,
    on_epoch: EpochCallback | None = None,
) -> list[dict]:
    """Run ``run_epoch(epoch)`` for each epoch, saving state and metrics after each; returns the history.

    ``run_epoch`` returns the epoch's record (losses averaged over ranks); the loop adds
    ``epoch``, ``seconds`` and ``world_size``. ``on_epoch`` and all file writes happen on rank 0.
    """
    files = checkpointing or Checkpointing()
    main = parts.info.is_main
    first, history = 1, []
    if files.resume and files.state_path and files.state_path.is_file():
        done, history = _load_state(files.state_path, parts)
        first = done + 1
        log.info("resuming from %s after epoch %d", files.state_path, done)
    elif files.resume:
        log.info("nothing to resume at %s; starting from epoch 1", files.state_path)
    if main:
        _write_metrics(files.metrics_path, history, append=False)
    for epoch in range(first, epochs + 1):
        started = time.perf_counter()
        record = run_epoch(epoch)
        sync_buffers(list(parts.modules.values()), parts.info)
        record = {"epoch": epoch, **record, "seconds": time.perf_counter() - started, "world_size": parts.info.world_size}
        history.append(record)
        if main:
            if files.state_path:
                _save_state(files.state_path, parts, epoch, history)
            _write_metrics(files.metrics_path, [record], append=True)
            if on_epoch:
                on_epoch(record)
    return history
