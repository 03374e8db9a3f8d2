"""SRResNet (Ledig et al., CVPR 2017): the SRGAN generator, here 1-channel."""

from __future__ import annotations

import torch
from torch import nn

from echosr_edge.errors import ConfigError


class ResidualBlock(nn.Module):
    """conv3×3 – BN – PReLU – conv3×3 – BN, plus the identity."""

    def __init__(self, features: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1),
            nn.BatchNorm2d(features),
            nn.PReLU(),
            nn.Conv2d(features, features, 3, padding=1),
            nn.BatchNorm2d(features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Upsample2x(nn.Module):
    """conv3×3 to 4× channels, PixelShuffle(2), PReLU."""

    def __init__(self, features: int):
        super().__init__()
        self.conv = nn.Conv2d(features, features * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shuffle(self.conv(x)))


class SRResNet(nn.Module):
    """Ledig et al. 2017, generator of SRGAN. ×4 by two PixelShuffle(2) stages.

    As in the paper's Fig. 4: 9×9 conv + PReLU; B residual blocks (3×3 conv, BN, PReLU, 3×3
    conv, BN, skip); 3×3 conv + BN and a skip from the head; per ×2 stage a 3×3 conv to 4×
    channels, PixelShuffle(2), PReLU; a 9×9 conv to the output channels. The paper's sizes are
    64 channels and 16 blocks. Input N×C×h×w in [0, 1]; output N×C×(scale·h)×(scale·w),
    unclamped (callers clip to [0, 1]).
    """

    def __init__(self, in_channels: int = 1, features: int = 64, blocks: int = 16, scale: int = 4):
        super().__init__()
        if scale not in (2, 4, 8):
            raise ConfigError("scale must be 2, 4 or 8")
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(in_channels, features, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(*[ResidualBlock(features) for _ in range(blocks)])
        self.body_tail = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1), nn.BatchNorm2d(features)
        )
        stages = {2: 1, 4: 2, 8: 3}[scale]
        self.upsample = nn.Sequential(*[Upsample2x(features) for _ in range(stages)])
        self.tail = nn.Conv2d(features, in_channels, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x)
        body = self.body_tail(self.body(head)) + head
        return self.tail(self.upsample(body))
