"""SR training: SRResNet on bicubic ×4 LR/HR pairs of good-quality frames, MSE loss."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from echosr_edge.data.preprocess import as_batch, bicubic_down, bicubic_up, resize_unit
from echosr_edge.data.records import Frame
from echosr_edge.metrics import mean_psnr
from echosr_edge.train.common import EpochCallback, pick_device, predict_batches, seed_everything

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SRTrainConfig:
    """SR training settings; defaults are a small CPU run, the paper's are Adam 1e-4, batch 16."""

    hr_size: int = 256
    scale: int = 4
    features: int = 64
    blocks: int = 16
    epochs: int = 2
    batch: int = 16
    lr: float = 1e-4
    patch_lr: int = 24
    patches_per_frame: int = 1
    seed: int = 0
    device: str = "auto"


def make_pairs(frames: list[Frame], hr_size: int, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames → (LR N×1×h×w, HR N×1×H×W) float32 in [0, 1]."""
    hr = [resize_unit(f.image, hr_size) for f in frames]
    lr = [bicubic_down(x, scale) for x in hr]
    return as_batch(lr), as_batch(hr)


def train_sr(
    frames: list[Frame], config: SRTrainConfig, on_epoch: EpochCallback | None = None
) -> tuple[torch.nn.Module, list[dict]]:
    """Train SRResNet on random aligned LR/HR patches of ``frames``; returns (model, history)."""
    from echosr_edge.models.srresnet import SRResNet

    if not frames:
        raise ValueError("no frames to train the SR model on")
    seed_everything(config.seed)
    device = pick_device(config.device)
    lr_imgs, hr_imgs = make_pairs(frames, config.hr_size, config.scale)
    model = SRResNet(features=config.features, blocks=config.blocks, scale=config.scale).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)
    lr_size = lr_imgs.shape[-1]
    patch = min(config.patch_lr, lr_size)
    s = config.scale
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = np.concatenate([rng.permutation(len(lr_imgs)) for _ in range(config.patches_per_frame)])
        losses = []
        for i in range(0, len(order), config.batch):
            idx = order[i : i + config.batch]
            ys = rng.integers(0, lr_size - patch + 1, size=len(idx))
            xs = rng.integers(0, lr_size - patch + 1, size=len(idx))
            lr_b = np.stack([lr_imgs[j, :, y : y + patch, x : x + patch] for j, y, x in zip(idx, ys, xs)])
            hr_b = np.stack(
                [hr_imgs[j, :, y * s : (y + patch) * s, x * s : (x + patch) * s] for j, y, x in zip(idx, ys, xs)]
            )
            lr_t, hr_t = torch.from_numpy(lr_b).to(device), torch.from_numpy(hr_b).to(device)
            loss = torch.nn.functional.mse_loss(model(lr_t), hr_t)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        record = {"epoch": epoch, "loss": float(np.mean(losses)), "seconds": time.perf_counter() - start}
        history.append(record)
        log.info("sr epoch %d loss %.5f", epoch, record["loss"])
        if on_epoch:
            on_epoch(record)
    return model.cpu().eval(), history


def evaluate_sr(model: torch.nn.Module, frames: list[Frame], hr_size: int, scale: int) -> dict:
    """Mean PSNR of SR and of bicubic against HR on ``frames`` (held-out good frames)."""
    lr, hr = make_pairs(frames, hr_size, scale)
    sr = np.clip(predict_batches(model, lr, batch=8), 0.0, 1.0)
    bicubic = as_batch([bicubic_up(x[0], scale) for x in lr])
    return {
        "frames": len(frames),
        "sr_psnr": mean_psnr(hr, sr),
        "bicubic_psnr": mean_psnr(hr, bicubic),
    }
