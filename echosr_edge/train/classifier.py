"""Classifier training: ResNet-18 on one task (view, phase or quality), cross-entropy, Adam."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from echosr_edge.data.preprocess import as_batch, resize_unit
from echosr_edge.data.records import TASK_LABELS, Frame
from echosr_edge.errors import ConfigError
from echosr_edge.train.augment import check_augment, robust_augment
from echosr_edge.train.common import (
    EpochCallback,
    autocast,
    grad_scaler,
    pick_device,
    plain_config,
    predict_batches,
    seed_everything,
    uses_amp,
)
from echosr_edge.train.distributed import dist_info, mean_across, shard, wrap
from echosr_edge.train.loop import Checkpointing, TrainParts, fit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierTrainConfig:
    """Classifier settings; the paper's: batch 16, 10 epochs, Adam 1e-4, cross-entropy.

    ``balanced``: weight the cross-entropy by inverse class frequency (off in the paper, whose
    view/phase subsets are balanced by construction; on for the quality model, where poor
    frames are a minority and are the class the enhance-when-needed gate must not miss).
    """

    task: str = "view"
    input_size: int = 224
    epochs: int = 10
    batch: int = 16
    lr: float = 1e-4
    seed: int = 0
    device: str = "auto"
    imagenet_weights: Path | None = None
    balanced: bool = False
    amp: bool = True
    augment: str = "none"  # "robust": smoothing, contrast, noise (train/augment.py); the paper trains without
    min_steps: int = 0  # at least this many optimiser steps: more epochs on a small set (0: exactly ``epochs``)

    def __post_init__(self) -> None:
        if self.task not in TASK_LABELS:
            raise ConfigError(f"unknown task {self.task!r}; tasks: {', '.join(TASK_LABELS)}")
        check_augment(self.augment)
        if self.epochs < 1 or self.min_steps < 0:
            raise ConfigError(f"epochs must be ≥ 1 and min_steps ≥ 0 (got {self.epochs}, {self.min_steps})")

    def epochs_for(self, frames: int) -> int:
        """Epochs to train on ``frames`` frames: ``epochs``, raised until the run takes ``min_steps`` optimiser steps.

        A ResNet-18 from a random start given a dozen steps (4 epochs of 23 frames) predicts at
        chance, and its BatchNorm running statistics are still near their initial values.
        """
        steps_per_epoch = max(1, -(-frames // self.batch))
        return max(self.epochs, -(-self.min_steps // steps_per_epoch))


def make_inputs(frames: list[Frame], task: str, input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames → (N×1×S×S float32 in [0, 1], N int64 label indices)."""
    labels = TASK_LABELS[task]
    x = as_batch([resize_unit(f.image, input_size) for f in frames])
    y = np.array([labels.index(f.label(task)) for f in frames], dtype=np.int64)
    return x, y


def class_weights(y: np.ndarray, classes: int) -> np.ndarray:
    """Inverse-frequency weights, mean 1 over the classes present (absent classes get 0)."""
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max((counts > 0).sum(), 1), 0.0)
    return weights.astype(np.float32)


def train_classifier(
    frames: list[Frame],
    config: ClassifierTrainConfig,
    on_epoch: EpochCallback | None = None,
    *,
    checkpointing: Checkpointing | None = None,
) -> tuple[torch.nn.Module, list[dict]]:
    """Train a ResNet-18 on ``frames`` for ``config.task``; returns (model on CPU, history)."""
    from echosr_edge.models.classifier import ResNet18Classifier

    if not frames:
        raise ConfigError("no frames to train the classifier on")
    info = dist_info()
    seed_everything(config.seed)
    device = pick_device(config.device, info.local_rank)
    amp = uses_amp(device, config.amp)
    classes = len(TASK_LABELS[config.task])
    x, y = make_inputs(frames, config.task, config.input_size)
    model = ResNet18Classifier(num_classes=classes)
    if config.imagenet_weights:
        model.load_imagenet(config.imagenet_weights)
    else:
        log.warning("no ImageNet weights given: the classifier starts from random initialisation")
    model.to(device)
    net = wrap(model, device, info)
    weight = torch.from_numpy(class_weights(y, classes)).to(device) if config.balanced else None
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scaler = grad_scaler(device, amp)
    rng = np.random.default_rng(config.seed)
    augment_rng = torch.Generator()

    def run_epoch(epoch: int) -> dict:
        net.train()
        order = rng.permutation(len(x))
        augment_rng.manual_seed(config.seed * 100_003 + epoch)  # per epoch, so a resumed run draws the same
        losses, correct, seen = [], 0, 0
        for i in range(0, len(order), config.batch):
            idx = shard(order[i : i + config.batch], info)
            if len(idx) == 0:
                continue
            xb = torch.from_numpy(x[idx])
            if config.augment == "robust":
                xb = robust_augment(xb, augment_rng)
            xb, yb = xb.to(device), torch.from_numpy(y[idx]).to(device)
            with autocast(device, amp):
                logits = net(xb).float()
                loss = torch.nn.functional.cross_entropy(logits, yb, weight=weight)
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            losses.append(loss.item())
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
        record = {
            "loss": mean_across(float(np.mean(losses)), info),
            "train_accuracy": mean_across(correct / max(seen, 1), info),
        }
        log.info("%s epoch %d loss %.4f acc %.3f", config.task, epoch, record["loss"], record["train_accuracy"])
        return record

    parts = TrainParts({"classifier": net}, {"classifier": optimiser}, {"classifier": scaler}, rng,
                       plain_config(config), info)
    history = fit(parts, config.epochs_for(len(x)), run_epoch, checkpointing, on_epoch)
    return model.cpu().eval(), history


def evaluate_classifier(model: torch.nn.Module, frames: list[Frame], task: str, input_size: int) -> dict:
    """Accuracy of ``model`` on ``frames`` overall, per quality tier, per class, and the confusion matrix.

    ``confusion[i][j]`` counts frames of class i predicted as class j (classes in TASK_LABELS order).
    """
    labels = TASK_LABELS[task]
    x, y = make_inputs(frames, task, input_size)
    pred = predict_batches(model, x).argmax(1) if len(x) else np.empty((0,), np.int64)
    result = {"frames": len(frames), "accuracy": float((pred == y).mean()) if len(y) else float("nan")}
    for tier in ("good", "medium", "poor"):
        mask = np.array([f.quality == tier for f in frames])
        if mask.any():
            result[f"accuracy_{tier}"] = float((pred[mask] == y[mask]).mean())
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    result["labels"] = list(labels)
    result["confusion"] = confusion.tolist()
    result["recall"] = {
        label: float(confusion[i, i] / confusion[i].sum()) for i, label in enumerate(labels) if confusion[i].sum()
    }
    return result
