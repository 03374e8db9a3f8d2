"""SRGAN training (Ledig et al. 2017): alternate a discriminator step and a generator step.

Generator loss = content + 1e-3 × adversarial, content being the VGG19 φ5,4 feature MSE when a
local VGG19 weights file is given and pixel MSE otherwise (stated in the history and the
checkpoint). Ledig et al. start SRGAN from the trained MSE SRResNet; here that is
``pretrained=<an SR checkpoint>`` (any layout models/pretrained.py reads).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError
from echosr_edge.metrics import mean_psnr
from echosr_edge.models.losses import (
    ADVERSARIAL_WEIGHT,
    content_loss_from,
    discriminator_loss,
    generator_adversarial_loss,
    judged_as,
)
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
from echosr_edge.train.sr import PatchSampler, SRTrainConfig, build_sr_model, lr_at, make_pairs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SRGANTrainConfig(SRTrainConfig):
    """SR settings plus the adversarial part; the paper's: Adam 1e-4 for both networks, batch 16."""

    adversarial_weight: float = ADVERSARIAL_WEIGHT
    vgg_weights: Path | None = None
    vgg_layer: str = "relu5_4"
    discriminator_features: int = 64


def _set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def train_srgan(
    frames: list[Frame],
    config: SRGANTrainConfig,
    on_epoch: EpochCallback | None = None,
    *,
    checkpointing: Checkpointing | None = None,
    validation: list[Frame] | None = None,
) -> tuple[torch.nn.Module, list[dict], dict]:
    """Train SRGAN on patches of ``frames``; returns (generator on CPU, history, loss description).

    The loss description says which content loss ran (``content_loss``) and, when it fell back
    to MSE for want of VGG19 weights, why (``content_loss_note``).
    """
    from echosr_edge.models.discriminator import Discriminator

    if not frames:
        raise ConfigError("no frames to train SRGAN on")
    info = dist_info()
    seed_everything(config.seed)
    device = pick_device(config.device, info.local_rank)
    amp = uses_amp(device, config.amp)
    lr_imgs, hr_imgs = make_pairs(frames, config.hr_size, config.scale, config.downsample)
    generator, _ = build_sr_model(config)
    discriminator = Discriminator(features=config.discriminator_features)
    content_loss, note = content_loss_from(config.vgg_weights, config.vgg_layer)
    losses_info = {"content_loss": content_loss.kind, "adversarial_weight": config.adversarial_weight}
    if note:
        losses_info["content_loss_note"] = note
    generator.to(device)
    discriminator.to(device)
    content_loss.to(device)
    g_net, d_net = wrap(generator, device, info), wrap(discriminator, device, info)
    g_opt = torch.optim.Adam(generator.parameters(), lr=config.lr)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.lr)
    g_scaler, d_scaler = grad_scaler(device, amp), grad_scaler(device, amp)
    rng = np.random.default_rng(config.seed)
    sampler = PatchSampler(lr_imgs, hr_imgs, config, rng)
    val = make_pairs(validation, config.hr_size, config.scale, config.downsample) if validation else None
    total_steps = config.epochs * sampler.steps_per_epoch()

    def run_epoch(epoch: int) -> dict:
        g_net.train()
        d_net.train()
        sums = {"loss": [], "content": [], "adversarial": [], "d_loss": [], "d_real": [], "d_fake": []}
        step = (epoch - 1) * sampler.steps_per_epoch()
        for lr_b, hr_b in sampler.epoch(info):
            for opt in (g_opt, d_opt):
                for group in opt.param_groups:
                    group["lr"] = lr_at(config, step, total_steps)
            step += 1
            lr_t, hr_t = torch.from_numpy(lr_b).to(device), torch.from_numpy(hr_b).to(device)
            with autocast(device, amp):
                sr = g_net(lr_t)
            # Discriminator: −log D(HR) − log(1 − D(SR)); real and fake in separate passes so
            # batch norm sees one kind at a time, as in the paper's implementations.
            _set_requires_grad(discriminator, True)
            d_opt.zero_grad(set_to_none=True)
            with autocast(device, amp):
                real_logits = d_net(hr_t).float()
            d_scaler.scale(judged_as(real_logits, real=True)).backward()
            with autocast(device, amp):
                fake_logits = d_net(sr.detach()).float()
            d_scaler.scale(judged_as(fake_logits, real=False)).backward()
            d_scaler.step(d_opt)
            d_scaler.update()
            # Generator: content + 1e-3 × (−log D(SR)), the discriminator frozen.
            _set_requires_grad(discriminator, False)
            with autocast(device, amp):
                content = content_loss(sr.float(), hr_t)
                adversarial = generator_adversarial_loss(discriminator(sr).float())
                g_loss = content + config.adversarial_weight * adversarial
            g_opt.zero_grad(set_to_none=True)
            g_scaler.scale(g_loss).backward()
            g_scaler.step(g_opt)
            g_scaler.update()
            with torch.no_grad():
                d_loss = discriminator_loss(real_logits, fake_logits)
            for key, value in (("loss", g_loss), ("content", content), ("adversarial", adversarial), ("d_loss", d_loss),
                               ("d_real", torch.sigmoid(real_logits).mean()), ("d_fake", torch.sigmoid(fake_logits).mean())):
                sums[key].append(float(value.item()))
        _set_requires_grad(discriminator, True)
        record = {k: mean_across(float(np.mean(v)), info) for k, v in sums.items()}
        record["lr"] = g_opt.param_groups[0]["lr"]
        if val is not None and info.is_main:
            sr_val = np.clip(predict_batches(generator, val[0], batch=8), 0.0, 1.0)
            record["val_psnr"] = mean_psnr(val[1], sr_val)
        log.info("srgan epoch %d G %.5f D %.4f", epoch, record["loss"], record["d_loss"])
        return record

    parts = TrainParts(
        {"generator": g_net, "discriminator": d_net},
        {"generator": g_opt, "discriminator": d_opt},
        {"generator": g_scaler, "discriminator": d_scaler},
        rng,
        plain_config(config),
        info,
    )
    history = fit(parts, config.epochs, run_epoch, checkpointing, on_epoch)
    return generator.cpu().eval(), history, losses_info
