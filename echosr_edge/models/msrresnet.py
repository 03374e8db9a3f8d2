"""MSRResNet: BasicSR's "modified SRResNet", the layout of its public DIV2K-trained checkpoints.

It differs from Ledig et al.'s SRResNet (models/srresnet.py) in ways that change the weights,
so those checkpoints need this architecture to be loaded as they are: no batch norm, 3×3 head
and tail convs, LeakyReLU(0.1) in place of PReLU, an extra 3×3 conv at HR size, and a global
skip that adds the bilinear ×scale upsampling of the input. Module names follow BasicSR's, so
a BasicSR state dict loads without renaming.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from echosr_edge.errors import ConfigError


class ResidualBlockNoBN(nn.Module):
    """conv3×3 – ReLU – conv3×3, plus the identity."""

    def __init__(self, features: int):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNet(nn.Module):
    """BasicSR's MSRResNet, ×2 or ×4. Input N×C×h×w in [0, 1]; output ×scale, unclamped."""

    def __init__(self, in_channels: int = 1, features: int = 64, blocks: int = 16, scale: int = 4):
        super().__init__()
        if scale not in (2, 4):
            raise ConfigError("scale must be 2 or 4")
        self.scale = scale
        self.conv_first = nn.Conv2d(in_channels, features, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(features) for _ in range(blocks)])
        self.upconv1 = nn.Conv2d(features, features * 4, 3, padding=1)
        self.upconv2 = nn.Conv2d(features, features * 4, 3, padding=1) if scale == 4 else None
        self.conv_hr = nn.Conv2d(features, features, 3, padding=1)
        self.conv_last = nn.Conv2d(features, in_channels, 3, padding=1)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(self.act(self.conv_first(x)))
        out = self.act(F.pixel_shuffle(self.upconv1(out), 2))
        if self.upconv2 is not None:
            out = self.act(F.pixel_shuffle(self.upconv2(out), 2))
        out = self.conv_last(self.act(self.conv_hr(out)))
        base = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + base
