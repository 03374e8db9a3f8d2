"""Degradations: the study's bicubic ×4 LR/HR pairs, plus named optional ones (numpy + OpenCV).

The study's pairs: HR = a good frame resized to ``hr_size``; LR = bicubic ↓``scale`` of HR.
Named degradations simulate a poorer acquisition and are applied to HR *before* the bicubic
↓, in the order given; the target stays the clean HR. Each takes a strength:

- ``speckle``: multiplicative Rayleigh speckle; strength = standard deviation of the
  multiplier (mean 1), e.g. 0.3.
- ``blur``: Gaussian blur; strength = sigma in HR pixels, e.g. 1.5.
- ``contrast``: contrast loss towards the frame's mean; strength = the fraction lost in [0, 1].

A spec string names them: ``"speckle:0.3,blur:1.5"`` (a name alone uses its default strength).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from echosr_edge.data.preprocess import bicubic_down, resize_unit
from echosr_edge.errors import ConfigError, did_you_mean

_RAYLEIGH_MEAN = math.sqrt(math.pi / 2)
_RAYLEIGH_STD = math.sqrt((4 - math.pi) / 2)


def _speckle(hr: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    multiplier = 1.0 + strength * (rng.rayleigh(1.0, size=hr.shape) - _RAYLEIGH_MEAN) / _RAYLEIGH_STD
    return hr * multiplier.astype(np.float32)


def _blur(hr: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(hr, (0, 0), strength) if strength > 0 else hr


def _contrast(hr: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    return hr * (1.0 - strength) + strength * float(hr.mean())


@dataclass(frozen=True)
class _Kind:
    apply: Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
    default: float
    low: float
    high: float


DEGRADATIONS: dict[str, _Kind] = {
    "speckle": _Kind(_speckle, 0.3, 0.0, 2.0),
    "blur": _Kind(_blur, 1.5, 0.0, 20.0),
    "contrast": _Kind(_contrast, 0.4, 0.0, 1.0),
}


@dataclass(frozen=True)
class Degradation:
    """One named degradation and its strength."""

    name: str
    strength: float

    def __post_init__(self) -> None:
        if self.name not in DEGRADATIONS:
            hint = did_you_mean(self.name, DEGRADATIONS)
            raise ConfigError(f"unknown degradation {self.name!r} (known: {', '.join(DEGRADATIONS)}).{hint}")
        kind = DEGRADATIONS[self.name]
        if not kind.low <= self.strength <= kind.high:
            raise ConfigError(f"{self.name} strength {self.strength} is outside [{kind.low}, {kind.high}]")

    def __str__(self) -> str:
        return f"{self.name}:{self.strength:g}"


def parse_degradations(spec: str) -> tuple[Degradation, ...]:
    """``"speckle:0.3,blur"`` → degradations in that order ('' → none)."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition(":")
        name = name.strip()
        if value.strip():
            try:
                strength = float(value)
            except ValueError as exc:
                raise ConfigError(f"degradation {part!r}: strength {value!r} is not a number") from exc
        else:
            strength = DEGRADATIONS[name].default if name in DEGRADATIONS else 0.0
        out.append(Degradation(name, strength))
    return tuple(out)


def degrade(hr: np.ndarray, degradations: Sequence[Degradation], rng: np.random.Generator) -> np.ndarray:
    """Apply ``degradations`` in order to an H×W float32 image in [0, 1]; returns H×W float32 in [0, 1]."""
    out = hr.astype(np.float32, copy=True)
    for d in degradations:
        out = np.clip(DEGRADATIONS[d.name].apply(out, d.strength, rng), 0.0, 1.0).astype(np.float32)
    return out


def lr_hr_pair(
    image: np.ndarray,
    hr_size: int = 256,
    scale: int = 4,
    degradations: Sequence[Degradation] = (),
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One (LR, HR) pair from an H×W uint8 frame: HR hr_size² float32 in [0, 1], LR (hr_size/scale)².

    With no degradations this is the study's pair: LR = bicubic ↓scale of HR.
    """
    hr = resize_unit(image, hr_size)
    source = degrade(hr, degradations, rng or np.random.default_rng(0)) if degradations else hr
    return bicubic_down(source, scale), hr


def lr_hr_pairs(
    images: Sequence[np.ndarray],
    hr_size: int = 256,
    scale: int = 4,
    degradations: Sequence[Degradation] = (),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(LR N×1×h×w, HR N×1×H×W) float32 in [0, 1] from H×W uint8 frames; seeded degradations."""
    rng = np.random.default_rng([seed, 50_021])
    pairs = [lr_hr_pair(image, hr_size, scale, degradations, rng) for image in images]
    lr = np.stack([p[0] for p in pairs])[:, None]
    hr = np.stack([p[1] for p in pairs])[:, None]
    return np.ascontiguousarray(lr, dtype=np.float32), np.ascontiguousarray(hr, dtype=np.float32)
