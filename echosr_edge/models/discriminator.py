"""The SRGAN discriminator (Ledig et al., CVPR 2017, Fig. 4), here for 1-channel frames."""

from __future__ import annotations

import torch
from torch import nn

# (output channels, stride) of the seven conv–BN–LeakyReLU blocks after the first conv.
_BLOCKS: tuple[tuple[int, int], ...] = ((1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2))


class Discriminator(nn.Module):
    """VGG-style classifier of HR patches: real (HR) against generated (SR).

    3×3 conv 64 + LeakyReLU(0.2); seven 3×3 conv + BN + LeakyReLU blocks with 64, 64, 128, 128,
    256, 256, 512, 512 channels, stride 2 every other block; dense 1024, LeakyReLU, dense 1.
    Ledig et al. train on 96×96 HR patches, which reach the dense layers as 6×6×512; an adaptive
    average pool to ``pool``×``pool`` keeps that shape for other patch sizes. The output is a
    logit (N×1); the paper's sigmoid lives in the loss (``BCEWithLogits``), which is the same
    function and stays stable in half precision.
    """

    def __init__(self, in_channels: int = 1, features: int = 64, pool: int = 6):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, features, 3, padding=1), nn.LeakyReLU(0.2)]
        channels = features
        for mult, stride in _BLOCKS:
            out = features * mult
            layers += [
                nn.Conv2d(channels, out, 3, stride=stride, padding=1),
                nn.BatchNorm2d(out),
                nn.LeakyReLU(0.2),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * pool * pool, 1024),
            nn.LeakyReLU(0.2),
            nn.Linear(1024, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))
