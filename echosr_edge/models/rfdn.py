"""RFDN (Liu, Tang & Wu, ECCV Workshops 2020, "Residual Feature Distillation Network for
Lightweight Image Super-Resolution"; winner of the AIM 2020 efficient SR challenge),
1-channel, as the residual-feature-distillation student.

Each residual feature distillation block (RFDB) keeps a 1×1 "distilled" slice of the features
after every shallow residual block (SRB: conv3×3 plus identity), concatenates the slices,
fuses them with a 1×1 conv and re-weights the result with enhanced spatial attention (ESA).
The upsampler is a conv3×3 to scale² channels and a PixelShuffle, as in the paper.
``anchor=True`` adds ABPN's nearest-neighbour anchor before the PixelShuffle (see espcn.py).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ESA(nn.Module):
    """Enhanced spatial attention: a strided, pooled branch that builds a sigmoid mask."""

    def __init__(self, channels: int, reduced: int = 16):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.skip = nn.Conv2d(reduced, reduced, 1)
        self.down = nn.Conv2d(reduced, reduced, 3, stride=2)
        self.pool = nn.MaxPool2d(7, stride=3)
        self.mid = nn.Conv2d(reduced, reduced, 3, padding=1)
        self.expand = nn.Conv2d(reduced, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.reduce(x)
        d = self.down(r)
        if min(d.shape[-2:]) >= 7:
            d = self.pool(d)
        d = F.relu(self.mid(d))
        d = F.interpolate(d, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return x * torch.sigmoid(self.expand(d + self.skip(r)))


class SRB(nn.Module):
    """Shallow residual block: conv3×3 plus identity, then LeakyReLU(0.05)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.conv(x) + x, 0.05)


class RFDB(nn.Module):
    """Residual feature distillation block with three distillation steps."""

    def __init__(self, channels: int):
        super().__init__()
        distilled = channels // 2
        self.d1, self.r1 = nn.Conv2d(channels, distilled, 1), SRB(channels)
        self.d2, self.r2 = nn.Conv2d(channels, distilled, 1), SRB(channels)
        self.d3, self.r3 = nn.Conv2d(channels, distilled, 1), SRB(channels)
        self.last = nn.Conv2d(channels, distilled, 3, padding=1)
        self.fuse = nn.Conv2d(distilled * 4, channels, 1)
        self.esa = ESA(channels, reduced=max(4, channels // 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.leaky_relu(self.d1(x), 0.05)
        x1 = self.r1(x)
        b = F.leaky_relu(self.d2(x1), 0.05)
        x2 = self.r2(x1)
        c = F.leaky_relu(self.d3(x2), 0.05)
        x3 = self.r3(x2)
        d = F.leaky_relu(self.last(x3), 0.05)
        return self.esa(self.fuse(torch.cat([a, b, c, d], dim=1))) + x


class RFDN(nn.Module):
    """Head conv3×3, ``blocks`` RFDBs fused by a 1×1 conv, conv3×3 + global skip, sub-pixel ×scale.

    Input N×1×h×w in [0, 1]; output N×1×(scale·h)×(scale·w), unclamped.
    """

    def __init__(self, in_channels: int = 1, features: int = 32, blocks: int = 4, scale: int = 4, anchor: bool = False):
        super().__init__()
        self.scale = scale
        self.anchor = anchor
        self.head = nn.Conv2d(in_channels, features, 3, padding=1)
        self.blocks = nn.ModuleList(RFDB(features) for _ in range(blocks))
        self.fuse = nn.Conv2d(features * blocks, features, 1)
        self.body_tail = nn.Conv2d(features, features, 3, padding=1)
        self.upsample = nn.Sequential(
            nn.Conv2d(features, in_channels * scale * scale, 3, padding=1), nn.PixelShuffle(scale)
        )
        if anchor:
            with torch.no_grad():
                self.upsample[0].weight.mul_(0.1)
                self.upsample[0].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        head = self.head(x)
        outs, h = [], head
        for block in self.blocks:
            h = block(h)
            outs.append(h)
        fused = F.leaky_relu(self.fuse(torch.cat(outs, dim=1)), 0.05)
        out = self.upsample[0](self.body_tail(fused) + head)
        if self.anchor:
            out = out + x.repeat_interleave(self.scale * self.scale, dim=1)
        return self.upsample[1](out)
