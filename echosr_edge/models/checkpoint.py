"""Checkpoints: architecture, its config, metadata and weights, loaded with weights_only=True."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from echosr_edge.errors import DataError
from echosr_edge.models.registry import build_model


def save_checkpoint(path: Path, model: nn.Module, arch: str, config: dict, meta: dict) -> Path:
    """Write a checkpoint atomically; ``meta`` holds plain values (task, labels, sizes, metrics)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"arch": arch, "config": config, "meta": meta, "state_dict": model.state_dict()}, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    """Load a checkpoint into its architecture in eval mode; returns (model, meta)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataError(path, f"not a readable checkpoint ({type(exc).__name__})") from exc
    if not isinstance(ckpt, dict) or "arch" not in ckpt or "state_dict" not in ckpt:
        raise DataError(path, "not an echosr-edge checkpoint (no arch/state_dict)")
    model = build_model(ckpt["arch"], **ckpt.get("config", {}))
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    meta = dict(ckpt.get("meta", {}))
    meta["arch"] = ckpt["arch"]
    meta["config"] = ckpt.get("config", {})
    return model, meta
