"""Multiply-accumulate counts of convolution and linear layers, measured by a forward pass."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class MacCount:
    """MACs of one forward pass at one input size, total and per input (LR) pixel."""

    input_hw: tuple[int, int]
    total: int
    params: int

    @property
    def per_input_pixel(self) -> float:
        return self.total / (self.input_hw[0] * self.input_hw[1])

    @property
    def gmac(self) -> float:
        return self.total / 1e9


def count_macs(model: nn.Module, input_hw: tuple[int, int], in_channels: int = 1) -> MacCount:
    """Count the MACs of Conv2d, ConvTranspose2d and Linear layers for one N=1 input.

    Element-wise work (activations, BatchNorm, additions, attention masks, interpolation) is
    left out, as the efficient-SR literature's MAC figures do.
    """
    total = 0

    def conv_hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    def deconv_hook(module: nn.ConvTranspose2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += inputs[0].numel() * (module.out_channels // module.groups) * kh * kw

    def linear_hook(module: nn.Linear, inputs, output) -> None:
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.ConvTranspose2d):
            handles.append(m.register_forward_hook(deconv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, in_channels, *input_hw))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return MacCount(tuple(input_hw), total, params)
