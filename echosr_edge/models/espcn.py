"""ESPCN (Shi et al., CVPR 2016, "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network"): the tiny real-time student, 1-channel.

Three convolutions in LR space and one sub-pixel (PixelShuffle) step; about 25 k
multiply-accumulates per LR pixel at the defaults, against SRResNet's ~2 M.

``anchor=True`` adds the LR input repeated scale² times before the PixelShuffle, so the network
learns a residual over nearest-neighbour upsampling: the anchor of ABPN (Du et al., CVPRW 2021,
"Anchor-based Plain Net for Mobile Image Super-Resolution"), integer-friendly and free of MACs.
It lets a student trained for a few CPU minutes start near interpolation instead of from noise.
"""

from __future__ import annotations

import torch
from torch import nn


class ESPCN(nn.Module):
    """conv5×5(f1) – tanh – conv3×3(f2) – tanh – conv3×3(scale²) – PixelShuffle(scale).

    Input N×1×h×w in [0, 1]; output N×1×(scale·h)×(scale·w), unclamped.
    """

    def __init__(self, in_channels: int = 1, features: int = 64, features2: int = 32, scale: int = 4, anchor: bool = False):
        super().__init__()
        self.scale = scale
        self.anchor = anchor
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, features, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(features, features2, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(features2, in_channels * scale * scale, 3, padding=1),
        )
        self.shuffle = nn.PixelShuffle(scale)
        if anchor:
            with torch.no_grad():
                self.body[-1].weight.mul_(0.1)
                self.body[-1].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.anchor:
            out = out + x.repeat_interleave(self.scale * self.scale, dim=1)
        return self.shuffle(out)
