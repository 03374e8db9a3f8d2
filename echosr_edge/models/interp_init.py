"""Start SRResNet as an interpolator: a warm start for short runs without pretrained weights.

The architecture is unchanged; only initial values are set so that, before any training, the
network's output is close to bicubic interpolation of its input:

- head: channel 0 of the 9×9 conv passes the input through (a centred delta; PReLU leaves
  inputs in [0, 1] unchanged);
- trunk: the batch norm after the trunk starts with γ = β = 0, so the trunk adds nothing until
  training grows γ (the "zero-γ" start of Goyal et al. 2017 for the last BN of a residual path);
- each ×2 stage: the conv's four sub-pixel outputs for channel 0 copy channel 0, so after
  PixelShuffle channel 0 is the nearest-neighbour upsampling;
- tail: the 9×9 conv reads only channel 0, with the separable kernel that, applied after
  nearest-neighbour ×s, best matches OpenCV's bicubic ×s (least squares, a = −0.75).

Every other weight keeps PyTorch's default random start, so training proceeds as usual; it
only no longer has to discover interpolation first, which is what a short CPU run cannot
afford. Without this the paper's SRResNet trained for a few CPU minutes ends below bicubic.
"""

from __future__ import annotations

import numpy as np
import torch

from echosr_edge.models.srresnet import SRResNet


def _cubic(t: np.ndarray, a: float = -0.75) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def nearest_to_bicubic_taps(scale: int, taps: int = 9) -> np.ndarray:
    """1-D filter f (``taps`` long, centred, summing to 1) such that f ⋆ nearest×scale ≈ bicubic×scale.

    Output pixel y and input pixel i are related by OpenCV's half-pixel centres: the bicubic
    weight is K((y + ½)/s − ½ − i); nearest×s copies input i to outputs s·i … s·i + s − 1.
    """
    half = taps // 2
    offsets = np.arange(-4 * scale, 4 * scale)  # u = y − s·i, wide enough to cover the support
    target = _cubic((offsets + 0.5) / scale - 0.5)
    design = np.zeros((len(offsets), taps))
    for row, u in enumerate(offsets):
        for col, d in enumerate(range(-half, half + 1)):
            if 0 <= u + d < scale:
                design[row, col] = 1.0
    # Bicubic reaches 2 input pixels out, further than 9 taps after nearest ×4 can; the closest
    # fit must still keep a flat image flat, so the taps are held to sum to 1 (a heavy row).
    design = np.vstack([design, 1e3 * np.ones(taps)])
    target = np.append(target, 1e3)
    taps_, *_ = np.linalg.lstsq(design, target, rcond=None)
    return taps_


@torch.no_grad()
def init_as_interpolation(model: SRResNet) -> SRResNet:
    """Set ``model``'s initial weights so it starts as ≈ bicubic ×scale (see the module doc)."""
    head = model.head[0]
    k = head.kernel_size[0]
    head.weight[0].zero_()
    head.weight[0, :, k // 2, k // 2] = 1.0 / head.in_channels
    head.bias[0] = 0.0
    model.body_tail[1].weight.zero_()
    model.body_tail[1].bias.zero_()
    for stage in model.upsample:
        conv = stage.conv
        conv.weight[:4].zero_()
        conv.weight[:4, 0, 1, 1] = 1.0
        conv.bias[:4] = 0.0
    tail = model.tail
    taps = torch.from_numpy(nearest_to_bicubic_taps(model.scale, tail.kernel_size[0])).float()
    tail.weight.zero_()
    tail.weight[:, 0] = torch.outer(taps, taps)
    tail.bias.zero_()
    return model
