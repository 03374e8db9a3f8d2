"""Distillation of the fine-tuned SRResNet (teacher) into a light real-time student.

Loss = L1(student(LR), HR) + ``distill_weight`` · L1(student(LR), teacher(LR)). The teacher runs
in eval mode without gradients on the same patches. Only the output is distilled: the students'
feature widths (ESPCN 64/32, RFDN 32) differ from SRResNet's 64-channel residual stream and their
blocks do not align one-to-one, so intermediate-feature matching would need learned adapters.
Seeded, resumable (train/loop.py), AMP on CUDA, the same patch sampler as SR training.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError
from echosr_edge.metrics import mean_psnr
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
from echosr_edge.train.distributed import dist_info, mean_across, wrap
from echosr_edge.train.loop import Checkpointing, TrainParts, fit
from echosr_edge.train.sr import PatchSampler, SRTrainConfig, lr_at, make_pairs

log = logging.getLogger(__name__)

STUDENTS = ("espcn", "rfdn")


@dataclass(frozen=True)
class DistillConfig(SRTrainConfig):
    """SR training settings plus the student and the weight of the teacher term."""

    student: str = "rfdn"
    student_config: dict = field(default_factory=dict)
    distill_weight: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.student not in STUDENTS:
            raise ConfigError(f"unknown student {self.student!r}; students: {', '.join(STUDENTS)}")


def build_student(config: DistillConfig) -> torch.nn.Module:
    """The student network at the config's scale."""
    from echosr_edge.models.registry import build_model

    return build_model(config.student, scale=config.scale, **config.student_config)


def train_distill(
    frames: list[Frame],
    teacher: torch.nn.Module,
    config: DistillConfig,
    on_epoch: EpochCallback | None = None,
    *,
    checkpointing: Checkpointing | None = None,
    validation: list[Frame] | None = None,
) -> tuple[torch.nn.Module, list[dict]]:
    """Train ``config.student`` on patches of ``frames`` against HR and the teacher's output."""
    if not frames:
        raise ConfigError("no frames to distil on")
    info = dist_info()
    seed_everything(config.seed)
    device = pick_device(config.device, info.local_rank)
    amp = uses_amp(device, config.amp)
    lr_imgs, hr_imgs = make_pairs(frames, config.hr_size, config.scale)
    student = build_student(config).to(device)
    teacher = teacher.to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    net = wrap(student, device, info)
    optimiser = torch.optim.Adam(student.parameters(), lr=config.lr)
    scaler = grad_scaler(device, amp)
    rng = np.random.default_rng(config.seed)
    sampler = PatchSampler(lr_imgs, hr_imgs, config, rng)
    val = make_pairs(validation, config.hr_size, config.scale) if validation else None
    total_steps = config.epochs * sampler.steps_per_epoch()

    def run_epoch(epoch: int) -> dict:
        net.train()
        pixel_losses, teacher_losses = [], []
        step = (epoch - 1) * sampler.steps_per_epoch()
        for lr_b, hr_b in sampler.epoch(info):
            for group in optimiser.param_groups:
                group["lr"] = lr_at(config, step, total_steps)
            step += 1
            lr_t, hr_t = torch.from_numpy(lr_b).to(device), torch.from_numpy(hr_b).to(device)
            with torch.no_grad(), autocast(device, amp):
                target = teacher(lr_t).float()
            with autocast(device, amp):
                out = net(lr_t).float()
                pixel = F.l1_loss(out, hr_t)
                taught = F.l1_loss(out, target)
                loss = pixel + config.distill_weight * taught
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            pixel_losses.append(pixel.item())
            teacher_losses.append(taught.item())
        record = {
            "loss_pixel": mean_across(float(np.mean(pixel_losses)), info),
            "loss_teacher": mean_across(float(np.mean(teacher_losses)), info),
            "lr": optimiser.param_groups[0]["lr"],
        }
        record["loss"] = record["loss_pixel"] + config.distill_weight * record["loss_teacher"]
        if val is not None and info.is_main:
            record["val_psnr"] = mean_psnr(val[1], np.clip(predict_batches(student, val[0], batch=8), 0.0, 1.0))
        log.info("distill epoch %d pixel %.5f teacher %.5f", epoch, record["loss_pixel"], record["loss_teacher"])
        return record

    parts = TrainParts({"student": net}, {"student": optimiser}, {"student": scaler}, rng, plain_config(config), info)
    history = fit(parts, config.epochs, run_epoch, checkpointing, on_epoch)
    return student.cpu().eval(), history
