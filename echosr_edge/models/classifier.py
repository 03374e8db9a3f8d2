"""ResNet-18 classifier (torchvision) with a 1-channel input and built-in normalisation."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from echosr_edge.errors import DataError

log = logging.getLogger(__name__)

# Grey frames in [0, 1] are normalised inside the model, so every exported artifact takes the
# same [0, 1] input as the SR model's output: the mean and std of ImageNet's three channels.
_GREY_MEAN = (0.485 + 0.456 + 0.406) / 3
_GREY_STD = (0.229 + 0.224 + 0.225) / 3


class ResNet18Classifier(nn.Module):
    """torchvision ResNet-18, first conv folded to 1 channel; input N×1×H×W in [0, 1], logits out."""

    def __init__(self, num_classes: int = 2, in_channels: int = 1):
        super().__init__()
        from torchvision.models import resnet18

        self.net = resnet18(weights=None, num_classes=num_classes)
        self.net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.register_buffer("mean", torch.tensor(_GREY_MEAN).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor(_GREY_STD).view(1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)

    def load_imagenet(self, path: Path) -> None:
        """Load torchvision's ImageNet ResNet-18 file (``resnet18-*.pth``) from a local path.

        The RGB first conv is summed over its input channels (a grey image is R=G=B); the
        ImageNet fc layer is dropped, since the class count differs.
        """
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
        if "conv1.weight" not in state:
            raise DataError(path, "not a torchvision ResNet-18 state dict (no conv1.weight)")
        state = dict(state)
        state["conv1.weight"] = state["conv1.weight"].sum(dim=1, keepdim=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        if unexpected or set(missing) - {"fc.weight", "fc.bias"}:
            raise DataError(path, f"layers do not match ResNet-18 ({unexpected or missing})")
        log.info("loaded ImageNet weights from %s", path)
