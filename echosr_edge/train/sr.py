"""SR training: SRResNet on bicubic ×4 LR/HR pairs of good-quality frames, MSE loss.

An epoch is one pass over the training frames, ``patches_per_frame`` random aligned LR/HR
patches from each (LR ``patch_lr``², HR ``scale·patch_lr``²; Ledig et al. used 24² LR / 96² HR).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from echosr_edge.data.preprocess import DOWNSAMPLERS, as_batch, bicubic_up, downscale, resize_unit
from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError
from echosr_edge.metrics import mean_psnr, mean_ssim
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

INITS = ("random", "interpolation")
LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class SRTrainConfig:
    """SR training settings. Defaults are a small CPU run; named schedules live in train/configs.py.

    ``init``: "random" (PyTorch's default start) or "interpolation" (SRResNet starts as ≈ bicubic,
    see models/interp_init.py); ignored when ``pretrained`` names a weights file.
    ``lr_schedule``: "constant" (the paper's Adam 1e-4) or "cosine" (decays to 0 over the run).
    """

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
    arch: str = "srresnet"
    init: str = "random"
    pretrained: Path | None = None
    lr_schedule: str = "constant"
    amp: bool = True
    downsample: str = "bicubic"  # how LR is made from HR (data/preprocess.py DOWNSAMPLERS)

    def __post_init__(self) -> None:
        if self.downsample not in DOWNSAMPLERS:
            raise ConfigError(f"unknown downsample {self.downsample!r}; known: {', '.join(DOWNSAMPLERS)}")
        if self.init not in INITS:
            raise ConfigError(f"unknown init {self.init!r}; known: {', '.join(INITS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"unknown lr_schedule {self.lr_schedule!r}; known: {', '.join(LR_SCHEDULES)}")
        if self.hr_size % self.scale:
            raise ConfigError(f"hr_size {self.hr_size} is not divisible by the scale {self.scale}")


def make_pairs(frames: list[Frame], hr_size: int, scale: int, downsample: str = "bicubic") -> tuple[np.ndarray, np.ndarray]:
    """Frames → (LR N×1×h×w, HR N×1×H×W) float32 in [0, 1]; LR by ``downsample``."""
    hr = [resize_unit(f.image, hr_size) for f in frames]
    lr = [downscale(x, scale, downsample) for x in hr]
    return as_batch(lr), as_batch(hr)


def build_sr_model(config: SRTrainConfig) -> tuple[torch.nn.Module, dict]:
    """The generator a config asks for and how it was started (recorded in the checkpoint)."""
    from echosr_edge.models.interp_init import init_as_interpolation
    from echosr_edge.models.pretrained import load_pretrained_sr
    from echosr_edge.models.registry import build_model

    if config.pretrained:
        expect = {"arch": config.arch, "features": config.features, "blocks": config.blocks, "scale": config.scale}
        model, weights = load_pretrained_sr(config.pretrained, expect)
        return model, {"init": "pretrained", "pretrained": str(weights.source), "pretrained_layout": weights.layout,
                       "pretrained_notes": list(weights.notes)}
    model = build_model(config.arch, features=config.features, blocks=config.blocks, scale=config.scale)
    if config.init == "interpolation":
        if config.arch != "srresnet":
            raise ConfigError("init='interpolation' is defined for arch 'srresnet' only")
        init_as_interpolation(model)
    return model, {"init": config.init}


def lr_at(config: SRTrainConfig, step: int, total_steps: int) -> float:
    """The learning rate of optimiser step ``step`` (0-based) of ``total_steps``."""
    if config.lr_schedule == "cosine":
        return 0.5 * config.lr * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    return config.lr


class PatchSampler:
    """Seeded random aligned LR/HR patches; every DDP rank draws the same and keeps its share."""

    def __init__(self, lr_imgs: np.ndarray, hr_imgs: np.ndarray, config: SRTrainConfig, rng: np.random.Generator):
        self.lr, self.hr, self.rng = lr_imgs, hr_imgs, rng
        self.scale = config.scale
        self.patch = min(config.patch_lr, lr_imgs.shape[-1])
        self.batch, self.per_frame = config.batch, config.patches_per_frame

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.lr) * self.per_frame / self.batch)

    def epoch(self, info):
        """Yield (LR, HR) numpy batches of this rank for one epoch."""
        order = np.concatenate([self.rng.permutation(len(self.lr)) for _ in range(self.per_frame)])
        p, s, size = self.patch, self.scale, self.lr.shape[-1]
        for i in range(0, len(order), self.batch):
            idx = order[i : i + self.batch]
            ys = self.rng.integers(0, size - p + 1, size=len(idx))
            xs = self.rng.integers(0, size - p + 1, size=len(idx))
            mine = shard(np.arange(len(idx)), info)
            if len(mine) == 0:
                continue
            lr_b = np.stack([self.lr[idx[k], :, ys[k] : ys[k] + p, xs[k] : xs[k] + p] for k in mine])
            hr_b = np.stack(
                [self.hr[idx[k], :, ys[k] * s : (ys[k] + p) * s, xs[k] * s : (xs[k] + p) * s] for k in mine]
            )
            yield lr_b, hr_b


def train_sr(
    frames: list[Frame],
    config: SRTrainConfig,
    on_epoch: EpochCallback | None = None,
    *,
    checkpointing: Checkpointing | None = None,
    validation: list[Frame] | None = None,
) -> tuple[torch.nn.Module, list[dict]]:
    """Train an SR generator (MSE) on patches of ``frames``; returns (model on CPU, history).

    ``validation`` frames, when given, add ``val_psnr`` / ``val_bicubic_psnr`` to each epoch's
    record. Under torchrun every rank returns the same weights.
    """
    if not frames:
        raise ConfigError("no frames to train the SR model on")
    info = dist_info()
    seed_everything(config.seed)
    device = pick_device(config.device, info.local_rank)
    amp = uses_amp(device, config.amp)
    lr_imgs, hr_imgs = make_pairs(frames, config.hr_size, config.scale, config.downsample)
    model, _ = build_sr_model(config)
    model.to(device)
    net = wrap(model, device, info)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    scaler = grad_scaler(device, amp)
    rng = np.random.default_rng(config.seed)
    sampler = PatchSampler(lr_imgs, hr_imgs, config, rng)
    val = make_pairs(validation, config.hr_size, config.scale, config.downsample) if validation else None
    total_steps = config.epochs * sampler.steps_per_epoch()

    def run_epoch(epoch: int) -> dict:
        net.train()
        losses = []
        step = (epoch - 1) * sampler.steps_per_epoch()
        for lr_b, hr_b in sampler.epoch(info):
            for group in optimiser.param_groups:
                group["lr"] = lr_at(config, step, total_steps)
            step += 1
            lr_t, hr_t = torch.from_numpy(lr_b).to(device), torch.from_numpy(hr_b).to(device)
            with autocast(device, amp):
                loss = torch.nn.functional.mse_loss(net(lr_t).float(), hr_t)
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            losses.append(loss.item())
        record = {"loss": mean_across(float(np.mean(losses)), info), "lr": optimiser.param_groups[0]["lr"]}
        if val is not None and info.is_main:
            sr = np.clip(predict_batches(model, val[0], batch=8), 0.0, 1.0)
            record["val_psnr"] = mean_psnr(val[1], sr)
        log.info("sr epoch %d loss %.5f", epoch, record["loss"])
        return record

    parts = TrainParts({"generator": net}, {"generator": optimiser}, {"generator": scaler}, rng,
                       plain_config(config), info)
    history = fit(parts, config.epochs, run_epoch, checkpointing, on_epoch)
    return model.cpu().eval(), history


def evaluate_sr(model: torch.nn.Module, frames: list[Frame], hr_size: int, scale: int) -> dict:
    """PSNR and SSIM of SR and of bicubic against HR on ``frames`` (held-out good frames).

    Convention (echosr_edge.metrics): [0, 1], data range 1.0, whole frame, no border crop.
    """
    lr, hr = make_pairs(frames, hr_size, scale)
    sr = np.clip(predict_batches(model, lr, batch=8), 0.0, 1.0)
    bicubic = as_batch([bicubic_up(x[0], scale) for x in lr])
    result = {
        "frames": len(frames),
        "sr_psnr": mean_psnr(hr, sr),
        "bicubic_psnr": mean_psnr(hr, bicubic),
        "sr_ssim": mean_ssim(hr, sr),
        "bicubic_ssim": mean_ssim(hr, bicubic),
        "metric_convention": "grey [0,1], data range 1.0, whole frame (no border crop); SSIM Gaussian 11x11 sigma 1.5",
    }
    result["psnr_gain_db"] = result["sr_psnr"] - result["bicubic_psnr"]
    return result
