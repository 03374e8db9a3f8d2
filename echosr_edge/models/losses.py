"""SRGAN losses (Ledig et al. 2017): content (pixel MSE or VGG19 features) + 1e-3 × adversarial.

VGG19 features come only from a local torchvision ``vgg19-*.pth`` file. Without one the content
loss is pixel MSE: the paper's own "SRGAN-MSE" variant. A randomly initialised VGG would run but
its features measure nothing perceptual, so its loss would be a noisier MSE under another name;
the trainer warns and records the choice in the checkpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from echosr_edge.errors import ConfigError, DataError

log = logging.getLogger(__name__)

ADVERSARIAL_WEIGHT = 1e-3
# Ledig et al. scale the VGG feature maps by 1/12.75 so the VGG loss is of the MSE loss's size.
VGG_FEATURE_SCALE = 1.0 / 12.75
# End (exclusive) of torchvision's vgg19().features for each layer Ledig et al. name:
# φ5,4 is conv5_4 after its ReLU, before the 5th max-pool; φ2,2 is conv2_2 after its ReLU.
VGG_LAYERS: dict[str, int] = {"relu5_4": 36, "relu2_2": 9}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """Frozen VGG19 features of grey N×1×H×W images in [0, 1] (replicated to RGB, ImageNet-normalised)."""

    def __init__(self, weights: Path, layer: str = "relu5_4"):
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        if layer not in VGG_LAYERS:
            raise ConfigError(f"unknown VGG layer {layer!r}; known: {', '.join(VGG_LAYERS)}")
        weights = Path(weights)
        if not weights.is_file():
            raise DataError(weights, "VGG19 weights file not found")
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DataError(weights, f"not a readable torchvision VGG19 state dict ({type(exc).__name__})") from exc
        end = VGG_LAYERS[layer]
        # VGG19's conv stack alone (torchvision's "E" config): building vgg19() would also
        # allocate its 120M-parameter classifier only to throw it away.
        net = make_layers(cfgs["E"], batch_norm=False)[:end]
        prefix = "features."
        wanted = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and int(k.split(".")[1]) < end}
        missing, unexpected = net.load_state_dict(wanted, strict=False)
        if missing or unexpected:
            raise DataError(weights, f"not a torchvision VGG19 state dict (missing {sorted(missing)[:4]})")
        for p in net.parameters():
            p.requires_grad_(False)
        self.net = net.eval()
        self.layer = layer
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> "VGGFeatures":
        # The feature extractor is fixed: it stays in eval mode whatever its owner does.
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rgb = x.expand(-1, 3, -1, -1)
        return self.net((rgb - self.mean) / self.std) * VGG_FEATURE_SCALE


class ContentLoss(nn.Module):
    """Pixel MSE, or the MSE between VGG19 feature maps when ``vgg`` is given."""

    def __init__(self, vgg: VGGFeatures | None = None):
        super().__init__()
        self.vgg = vgg

    @property
    def kind(self) -> str:
        return f"vgg19_{self.vgg.layer}" if self.vgg is not None else "mse"

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        if self.vgg is None:
            return F.mse_loss(sr, hr)
        return F.mse_loss(self.vgg(sr), self.vgg(hr))


def judged_as(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """−log D(x) when ``real``, −log(1 − D(x)) otherwise (D = sigmoid of the logits)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def generator_adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−log D(G(x)), the paper's form (better gradients than log(1 − D(G(x))))."""
    return judged_as(fake_logits, real=True)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−log D(HR) − log(1 − D(SR))."""
    return judged_as(real_logits, real=True) + judged_as(fake_logits, real=False)


def content_loss_from(vgg_weights: Path | None, layer: str = "relu5_4") -> tuple[ContentLoss, str | None]:
    """The content loss for ``vgg_weights``; the second value is a warning when it falls back to MSE."""
    if vgg_weights is None:
        note = (
            "no VGG19 weights given (--vgg-weights vgg19-*.pth): the SRGAN content loss is pixel MSE "
            "(Ledig et al.'s SRGAN-MSE variant), not the VGG feature loss"
        )
        log.warning(note)
        return ContentLoss(None), note
    return ContentLoss(VGGFeatures(vgg_weights, layer)), None
