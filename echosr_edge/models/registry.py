"""Model registry: architecture name → constructor."""

from __future__ import annotations

from typing import Callable

from torch import nn

from echosr_edge.errors import ConfigError, did_you_mean

# SR generators (x4 image in, image out); every other entry maps an image to logits.
# Architectures that map a 1-channel LR frame to a ×scale SR frame (teachers and students).
SR_ARCHITECTURES: tuple[str, ...] = ("srresnet", "msrresnet", "rfdn", "espcn")
# The light students distilled from SRResNet (the real-time profile's SR).
STUDENT_ARCHITECTURES: tuple[str, ...] = ("rfdn", "espcn")


def _srresnet(**kw) -> nn.Module:
    from echosr_edge.models.srresnet import SRResNet

    return SRResNet(**kw)


def _msrresnet(**kw) -> nn.Module:
    from echosr_edge.models.msrresnet import MSRResNet

    return MSRResNet(**kw)


def _discriminator(**kw) -> nn.Module:
    from echosr_edge.models.discriminator import Discriminator

    return Discriminator(**kw)


def _resnet18(**kw) -> nn.Module:
    from echosr_edge.models.classifier import ResNet18Classifier

    return ResNet18Classifier(**kw)


def _espcn(**kw) -> nn.Module:
    from echosr_edge.models.espcn import ESPCN

    return ESPCN(**kw)


def _rfdn(**kw) -> nn.Module:
    from echosr_edge.models.rfdn import RFDN

    return RFDN(**kw)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "srresnet": _srresnet,
    "msrresnet": _msrresnet,
    "srgan_discriminator": _discriminator,
    "resnet18": _resnet18,
    "espcn": _espcn,
    "rfdn": _rfdn,
}


def build_model(arch: str, **config) -> nn.Module:
    """Build a registered architecture; an unknown name lists the valid ones."""
    if arch not in ARCHITECTURES:
        hint = did_you_mean(arch, ARCHITECTURES)
        raise ConfigError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}.{hint}")
    return ARCHITECTURES[arch](**config)
