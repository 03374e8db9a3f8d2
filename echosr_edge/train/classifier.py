"""Classifier training: ResNet-18 on one task (view, phase or quality), cross-entropy, Adam."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from echosr_edge.data.preprocess import as_batch, resize_unit
from echosr_edge.data.records import TASK_LABELS, Frame
from echosr_edge.train.common import EpochCallback, pick_device, predict_batches, seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierTrainConfig:
    """Classifier settings; the paper's: batch 16, 10 epochs, Adam 1e-4, cross-entropy."""

    task: str = "view"
    input_size: int = 224
    epochs: int = 10
    batch: int = 16
    lr: float = 1e-4
    seed: int = 0
    device: str = "auto"
    imagenet_weights: Path | None = None


def make_inputs(frames: list[Frame], task: str, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames → (N×1×S×S float32 in [0, 1], N int64 label indices)."""
    labels = TASK_LABELS[task]
    x = as_batch([resize_unit(f.image, input_size) for f in frames])
    y = np.array([labels.index(f.label(task)) for f in frames], dtype=np.int64)
    return x, y


def train_classifier(
    frames: list[Frame], config: ClassifierTrainConfig, on_epoch: EpochCallback | None = None
) -> tuple[torch.nn.Module, list[dict]]:
    """Train a ResNet-18 on ``frames`` for ``config.task``; returns (model, history)."""
    from echosr_edge.models.classifier import ResNet18Classifier

    if not frames:
        raise ValueError("no frames to train the classifier on")
    seed_everything(config.seed)
    device = pick_device(config.device)
    x, y = make_inputs(frames, config.task, config.input_size)
    model = ResNet18Classifier(num_classes=len(TASK_LABELS[config.task]))
    if config.imagenet_weights:
        model.load_imagenet(config.imagenet_weights)
    else:
        log.warning("no ImageNet weights given: the classifier starts from random initialisation")
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = rng.permutation(len(x))
        losses, correct = [], 0
        for i in range(0, len(order), config.batch):
            idx = order[i : i + config.batch]
            xb, yb = torch.from_numpy(x[idx]).to(device), torch.from_numpy(y[idx]).to(device)
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits, yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
            correct += int((logits.argmax(1) == yb).sum())
        record = {
            "epoch": epoch,
            "loss": float(np.mean(losses)),
            "train_accuracy": correct / len(x),
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        log.info("%s epoch %d loss %.4f acc %.3f", config.task, epoch, record["loss"], record["train_accuracy"])
        if on_epoch:
            on_epoch(record)
    return model.cpu().eval(), history


def evaluate_classifier(model: torch.nn.Module, frames: list[Frame], task: str, input_size: int) -> dict:
    """Accuracy of ``model`` on ``frames`` overall and per quality tier."""
    x, y = make_inputs(frames, task, input_size)
    pred = predict_batches(model, x).argmax(1)
    result = {"frames": len(frames), "accuracy": float((pred == y).mean()) if len(y) else float("nan")}
    for tier in ("good", "medium", "poor"):
        mask = np.array([f.quality == tier for f in frames])
        if mask.any():
            result[f"accuracy_{tier}"] = float((pred[mask] == y[mask]).mean())
    return result
