"""Synthetic echo-like frames in CAMUS format: the embedded default data set.

Each frame is an apical view inside a sector-shaped field of view with speckle. Chambers are
dark ellipses ringed by bright myocardium: two (left ventricle above left atrium) in a 2CH
view, four (ventricles side by side above the atria) in a 4CH view. At end-diastole (ED) the
ventricles are full and the atria small; at end-systole (ES) the ventricles shrink and the
atria fill. Per-patient size, pose and depth vary, so phase must be judged from the
ventricle-to-atrium proportion rather than from one absolute size.

Quality tiers degrade contrast, noise, blur, haze and add acoustic dropout, so the
classes are learnable on good frames and harder on poor ones, as in CAMUS.

Writing trees in either release's layout lives in ``synth_tree``; ``write_synthetic_camus``
is re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from echosr_edge.data.records import QUALITIES
from echosr_edge.errors import ConfigError

# CAMUS Table 1 quality proportions per view (good, medium, poor) out of 500 patients.
CAMUS_QUALITY_COUNTS: dict[str, tuple[int, int, int]] = {
    "2CH": (217, 214, 69),
    "4CH": (288, 165, 47),
}
QUALITY_MIXES: tuple[str, ...] = ("table1", "even")


@dataclass(frozen=True)
class TierDegradation:
    """How one quality tier degrades a clean rendering (all factors on [0, 1] intensities)."""

    contrast: float
    noise: float
    blur_sigma: float
    haze: float
    dropouts: int
    dropout_depth: float
    attenuation: float


TIERS: dict[str, TierDegradation] = {
    "good": TierDegradation(1.00, 0.03, 0.0, 0.00, 0, 0.0, 0.25),
    "medium": TierDegradation(0.62, 0.10, 1.6, 0.10, 1, 0.45, 0.55),
    "poor": TierDegradation(0.45, 0.13, 2.4, 0.16, 2, 0.70, 0.85),
}


@dataclass(frozen=True)
class Acquisition:
    """Pose and tier factors of one rendered frame; a cine blends those of its ED and ES frames."""

    angle: float
    shift_x: float
    shift_y: float
    scale: float
    blur: float  # multiplier of the tier's blur sigma
    attenuation: float  # multiplier of the tier's depth attenuation
    contrast: float
    haze: float
    dropouts: tuple[tuple[float, float], ...]  # (centre, width) of each dropout wedge

    def blend(self, other: "Acquisition", t: float) -> "Acquisition":
        """The acquisition a fraction ``t`` of the way from this one to ``other``."""

        def mix(a: float, b: float) -> float:
            return a + (b - a) * t

        return Acquisition(
            *(mix(getattr(self, n), getattr(other, n)) for n in ("angle", "shift_x", "shift_y", "scale", "blur", "attenuation", "contrast", "haze")),
            dropouts=tuple((mix(a[0], b[0]), mix(a[1], b[1])) for a, b in zip(self.dropouts, other.dropouts)),
        )


def quality_counts(n_patients: int, view: str, mix: str = "table1") -> tuple[int, int, int]:
    """(good, medium, poor) counts for ``n_patients``: CAMUS's Table 1 proportions or even thirds (largest remainder)."""
    if mix not in QUALITY_MIXES:
        raise ConfigError(f"unknown quality mix {mix!r}; mixes: {', '.join(QUALITY_MIXES)}")
    counts = np.array(CAMUS_QUALITY_COUNTS[view] if mix == "table1" else (1, 1, 1), dtype=float)
    exact = counts / counts.sum() * n_patients
    alloc = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - alloc), kind="stable")[: n_patients - alloc.sum()]:
        alloc[i] += 1
    return tuple(int(n) for n in alloc)


def allocate_qualities(n_patients: int, view: str, rng: np.random.Generator, mix: str = "table1") -> list[str]:
    """Quality labels for ``n_patients`` in ``quality_counts`` proportions, shuffled by ``rng``."""
    labels = [q for q, n in zip(QUALITIES, quality_counts(n_patients, view, mix)) for _ in range(n)]
    rng.shuffle(labels)
    return labels


def _ellipse(xx, yy, cx, cy, ax, ay, angle):
    c, s = math.cos(angle), math.sin(angle)
    dx, dy = xx - cx, yy - cy
    u = (c * dx + s * dy) / ax
    v = (-s * dx + c * dy) / ay
    return u * u + v * v


def _towards(end: float, systole: float) -> float:
    """1 at ED (systole 0), ``end`` at ES (systole 1), exactly at both ends."""
    if systole <= 0.0:
        return 1.0
    if systole >= 1.0:
        return end
    return 1.0 + (end - 1.0) * systole


def _chambers(view: str, systole: float, anatomy: dict) -> list[tuple[float, float, float, float]]:
    """Chambers as (cx, cy, ax, ay) in units of the image width/height, before the pose.

    The left ventricle comes first; the left atrium is index 1 (2CH) or 2 (4CH).
    """
    lv = anatomy["lv"] * _towards(anatomy["ef_shrink"], systole)
    la = anatomy["la"] * _towards(anatomy["la_fill"], systole)
    if view == "2CH":
        return [
            (0.50, 0.42, 0.15 * lv, 0.23 * lv),
            (0.50 + anatomy["la_shift"], 0.77, 0.13 * la, 0.10 * la),
        ]
    rv = lv * anatomy["rv_ratio"]
    return [
        (0.60, 0.43, 0.12 * lv, 0.22 * lv),
        (0.36, 0.45, 0.10 * rv, 0.19 * rv),
        (0.60, 0.78, 0.11 * la, 0.09 * la),
        (0.37, 0.78, 0.10 * la, 0.085 * la),
    ]


def patient_anatomy(rng: np.random.Generator) -> dict:
    """Per-patient anatomy and pose, shared by both views and phases of one patient."""
    return {
        "lv": rng.uniform(0.85, 1.15),
        "la": rng.uniform(0.85, 1.15),
        "ef_shrink": rng.uniform(0.68, 0.86),
        "la_fill": rng.uniform(1.12, 1.32),
        "rv_ratio": rng.uniform(0.75, 0.95),
        "la_shift": rng.uniform(-0.04, 0.04),
        "wall": rng.uniform(0.035, 0.055),
        "tissue": rng.uniform(0.25, 0.40),
    }


def render(
    view: str,
    systole: float,
    quality: str,
    anatomy: dict,
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 256),
    acquisition: Acquisition | None = None,
) -> tuple[np.ndarray, np.ndarray, Acquisition]:
    """Render one frame at ``systole`` (0 = ED, 1 = ES) of the cardiac half cycle.

    Returns the H×W uint8 image, its H×W uint8 segmentation (CAMUS labels: 1 LV cavity,
    2 LV myocardium, 3 left atrium) and the acquisition used: drawn from ``rng`` unless given
    (speckle and noise are always drawn).
    """
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= h
    xx /= w
    tier = TIERS[quality]
    # Pose: the heart rotates about the apex and shifts a little between acquisitions.
    if acquisition is None:
        angle = rng.uniform(-0.2, 0.2)
        shift_x, shift_y = rng.uniform(-0.04, 0.04), rng.uniform(-0.03, 0.03)
        scale = rng.uniform(0.92, 1.08)
    else:
        angle, shift_x, shift_y, scale = acquisition.angle, acquisition.shift_x, acquisition.shift_y, acquisition.scale

    image = np.full((h, w), anatomy["tissue"], np.float32)
    wall = anatomy["wall"]
    chambers = _chambers(view, systole, anatomy)
    ca, sa = math.cos(angle), math.sin(angle)
    placed = []
    for cx, cy, ax, ay in chambers:
        dx, dy = (cx - 0.5) * scale, (cy - 0.05) * scale
        placed.append(
            (0.5 + ca * dx - sa * dy + shift_x, 0.05 + sa * dx + ca * dy + shift_y, ax * scale, ay * scale)
        )
    rings, cavities = [], []
    for cx, cy, ax, ay in placed:  # myocardium rings first, so walls between chambers stay bright
        rings.append(_ellipse(xx, yy, cx, cy, ax + wall, ay + wall, angle) <= 1.0)
        image[rings[-1]] = 0.85
    for cx, cy, ax, ay in placed:
        cavities.append(_ellipse(xx, yy, cx, cy, ax, ay, angle) <= 1.0)
        image[cavities[-1]] = 0.06
    mask = np.zeros((h, w), np.uint8)
    mask[rings[0]] = 2
    mask[cavities[0]] = 1
    mask[cavities[1 if view == "2CH" else 2]] = 3

    # Speckle: multiplicative Rayleigh noise with a grain of a few pixels.
    grain = rng.rayleigh(0.8, size=(h, w)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.8)
    image = image * grain
    image = cv2.GaussianBlur(image, (0, 0), 0.6)
    if acquisition is None:
        blur = rng.uniform(0.8, 1.2) if tier.blur_sigma > 0 else 1.0
        attenuation = rng.uniform(0.7, 1.0)
    else:
        blur, attenuation = acquisition.blur, acquisition.attenuation
    if tier.blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), tier.blur_sigma * blur)
    # Depth attenuation, contrast loss and haze.
    depth = np.hypot(xx - 0.5, yy - 0.02)
    image = image * (1.0 - tier.attenuation * attenuation * depth)
    if acquisition is None:
        contrast = tier.contrast * rng.uniform(0.9, 1.1)
        haze = tier.haze * rng.uniform(0.7, 1.3)
    else:
        contrast, haze = acquisition.contrast, acquisition.haze
    image = image * contrast + haze
    # Acoustic dropout: angular wedges where the signal fades.
    theta = np.arctan2(xx - 0.5, yy - 0.02)
    if acquisition is None:
        dropouts = tuple((rng.uniform(-0.5, 0.5), rng.uniform(0.08, 0.2)) for _ in range(tier.dropouts))
    else:
        dropouts = acquisition.dropouts
    for centre, width in dropouts:
        wedge = np.exp(-(((theta - centre) / width) ** 2))
        image = image * (1.0 - tier.dropout_depth * wedge)
    image = image + rng.normal(0.0, tier.noise, size=(h, w)).astype(np.float32)
    # Sector field of view: a 75-degree fan from the apex, black outside.
    half_angle = math.radians(37.5)
    sector = (np.abs(theta) <= half_angle) & (depth <= 0.97) & (yy >= 0.02)
    image = np.where(sector, image, 0.0)
    mask[~sector] = 0
    used = Acquisition(angle, shift_x, shift_y, scale, blur, attenuation, contrast, haze, dropouts)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), mask, used


def render_frame(
    view: str,
    phase: str,
    quality: str,
    anatomy: dict,
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 256),
) -> np.ndarray:
    """Render one H×W uint8 frame of ``view``/``phase`` at ``quality``."""
    return render(view, 0.0 if phase == "ED" else 1.0, quality, anatomy, rng, size)[0]


def systole_at(index: int, n_frames: int) -> float:
    """Fraction of the way from ED (frame 0) to ES (frame n-1), eased like a contraction."""
    if n_frames < 2:
        return 0.0
    return 0.5 - 0.5 * math.cos(math.pi * index / (n_frames - 1))


def __getattr__(name: str):
    # write_synthetic_camus lives in synth_tree (which imports this module); re-export lazily.
    if name == "write_synthetic_camus":
        from echosr_edge.data.synth_tree import write_synthetic_camus

        return write_synthetic_camus
    raise AttributeError(name)
