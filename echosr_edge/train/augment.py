"""Label-keeping augmentation for classifier training: decide on anatomy, not on texture.

At the bedside a classifier sees SR output, which is smoother than the frames it was trained
on, and each backend's INT8 SR output differs from FP32 by a few grey levels. A classifier
trained only on raw frames can move its probabilities by several points on such differences
(the demo's phase model: up to 0.06 between the ONNX Runtime and OpenVINO INT8 SR outputs).
'robust' trains it on frames that differ in exactly those ways.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from echosr_edge.errors import ConfigError

if TYPE_CHECKING:
    import torch

AUGMENTS = ("none", "robust")


def check_augment(name: str) -> str:
    """``name`` if it is a known augmentation, else ValueError naming the choices."""
    if name not in AUGMENTS:
        raise ConfigError(f"unknown augmentation {name!r}; choices: {', '.join(AUGMENTS)}")
    return name


def robust_augment(x: torch.Tensor, generator: torch.Generator, scale: int = 4) -> torch.Tensor:
    """N×1×H×W frames in [0, 1] → augmented copies, drawn from ``generator`` (CPU tensors).

    Per frame: with probability 1/2 a bicubic ×``scale`` down-and-up (the band an SR model
    restores); always a contrast gain in [0.8, 1.2] about mid-grey and a brightness shift in
    ±0.05; then Gaussian noise with a standard deviation drawn from [0, 0.03].
    """
    import torch

    n, _, h, w = x.shape
    out = x.clone()
    smooth = torch.rand(n, generator=generator) < 0.5
    if smooth.any() and h >= scale and w >= scale:
        low = torch.nn.functional.interpolate(out[smooth], size=(h // scale, w // scale), mode="bicubic",
                                              align_corners=False, antialias=True)
        out[smooth] = torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic", align_corners=False)
    gain = 0.8 + 0.4 * torch.rand(n, 1, 1, 1, generator=generator)
    shift = 0.1 * (torch.rand(n, 1, 1, 1, generator=generator) - 0.5)
    out = (out - 0.5) * gain + 0.5 + shift
    sigma = 0.03 * torch.rand(n, 1, 1, 1, generator=generator)
    out = out + sigma * torch.randn(out.shape, generator=generator)
    return out.clamp(0.0, 1.0)
