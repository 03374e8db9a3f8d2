"""Synthetic echo-like frames in CAMUS format: the embedded default data set.

Each frame is an apical view inside a sector-shaped field of view with speckle. Chambers are
dark ellipses ringed by bright myocardium: two (left ventricle above left atrium) in a 2CH
view, four (ventricles side by side above the atria) in a 4CH view. At end-diastole (ED) the
ventricles are full and the atria small; at end-systole (ES) the ventricles shrink and the
atria fill. Per-patient size, pose and depth vary, so phase must be judged from the
ventricle-to-atrium proportion rather than from one absolute size.

Quality tiers degrade contrast, noise, blur, haze and add acoustic dropout, so the
classes are learnable on good frames and harder on poor ones, as in CAMUS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from echosr_edge.data.camus_cfg import format_info_cfg
from echosr_edge.data.nifti import write_nifti
from echosr_edge.data.records import PHASES, QUALITIES, VIEWS

# CAMUS Table 1 quality proportions per view (good, medium, poor) out of 500 patients.
CAMUS_QUALITY_COUNTS: dict[str, tuple[int, int, int]] = {
    "2CH": (217, 214, 69),
    "4CH": (288, 165, 47),
}


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


def allocate_qualities(n_patients: int, view: str, rng: np.random.Generator) -> list[str]:
    """Quality labels for ``n_patients`` in CAMUS's Table 1 proportions (largest remainder)."""
    counts = np.array(CAMUS_QUALITY_COUNTS[view], dtype=float)
    exact = counts / counts.sum() * n_patients
    alloc = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - alloc))[: n_patients - alloc.sum()]:
        alloc[i] += 1
    labels = [q for q, n in zip(QUALITIES, alloc) for _ in range(n)]
    rng.shuffle(labels)
    return labels


def _ellipse(xx, yy, cx, cy, ax, ay, angle):
    c, s = math.cos(angle), math.sin(angle)
    dx, dy = xx - cx, yy - cy
    u = (c * dx + s * dy) / ax
    v = (-s * dx + c * dy) / ay
    return u * u + v * v


def _chambers(view: str, phase: str, anatomy: dict) -> list[tuple[float, float, float, float]]:
    """Chambers as (cx, cy, ax, ay) in units of the image width/height, before the pose."""
    lv = anatomy["lv"] * (1.0 if phase == "ED" else anatomy["ef_shrink"])
    la = anatomy["la"] * (1.0 if phase == "ED" else anatomy["la_fill"])
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


def render_frame(
    view: str,
    phase: str,
    quality: str,
    anatomy: dict,
    rng: np.random.Generator,
    size: tuple[int, int] = (320, 256),
) -> np.ndarray:
    """Render one H×W uint8 frame of ``view``/``phase`` at ``quality``."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy /= h
    xx /= w
    # Pose: the heart rotates about the apex and shifts a little between acquisitions.
    angle = rng.uniform(-0.2, 0.2)
    shift_x, shift_y = rng.uniform(-0.04, 0.04), rng.uniform(-0.03, 0.03)
    scale = rng.uniform(0.92, 1.08)

    image = np.full((h, w), anatomy["tissue"], np.float32)
    wall = anatomy["wall"]
    chambers = _chambers(view, phase, anatomy)
    ca, sa = math.cos(angle), math.sin(angle)
    placed = []
    for cx, cy, ax, ay in chambers:
        dx, dy = (cx - 0.5) * scale, (cy - 0.05) * scale
        placed.append(
            (0.5 + ca * dx - sa * dy + shift_x, 0.05 + sa * dx + ca * dy + shift_y, ax * scale, ay * scale)
        )
    for cx, cy, ax, ay in placed:  # myocardium rings first, so walls between chambers stay bright
        ring = _ellipse(xx, yy, cx, cy, ax + wall, ay + wall, angle)
        image[ring <= 1.0] = 0.85
    for cx, cy, ax, ay in placed:
        cavity = _ellipse(xx, yy, cx, cy, ax, ay, angle)
        image[cavity <= 1.0] = 0.06

    tier = TIERS[quality]
    # Speckle: multiplicative Rayleigh noise with a grain of a few pixels.
    grain = rng.rayleigh(0.8, size=(h, w)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.8)
    image = image * grain
    image = cv2.GaussianBlur(image, (0, 0), 0.6)
    if tier.blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), tier.blur_sigma * rng.uniform(0.8, 1.2))
    # Depth attenuation, contrast loss and haze.
    depth = np.hypot(xx - 0.5, yy - 0.02)
    image = image * (1.0 - tier.attenuation * rng.uniform(0.7, 1.0) * depth)
    contrast = tier.contrast * rng.uniform(0.9, 1.1)
    image = image * contrast + tier.haze * rng.uniform(0.7, 1.3)
    # Acoustic dropout: angular wedges where the signal fades.
    theta = np.arctan2(xx - 0.5, yy - 0.02)
    for _ in range(tier.dropouts):
        centre, width = rng.uniform(-0.5, 0.5), rng.uniform(0.08, 0.2)
        wedge = np.exp(-(((theta - centre) / width) ** 2))
        image = image * (1.0 - tier.dropout_depth * wedge)
    image = image + rng.normal(0.0, tier.noise, size=(h, w)).astype(np.float32)
    # Sector field of view: a 75-degree fan from the apex, black outside.
    half_angle = math.radians(37.5)
    sector = (np.abs(theta) <= half_angle) & (depth <= 0.97) & (yy >= 0.02)
    image = np.where(sector, image, 0.0)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_synthetic_camus(
    out: Path,
    patients: int = 50,
    seed: int = 0,
    size: tuple[int, int] = (320, 256),
    spacing: tuple[float, float] = (0.3, 0.3),
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a CAMUS-format tree (2023 NIfTI layout) of ``patients`` synthetic patients.

    Quality labels follow CAMUS's Table 1 proportions per view. Returns ``out``.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    label_rng = np.random.default_rng([seed, 10_000_019])
    qualities = {view: allocate_qualities(patients, view, label_rng) for view in VIEWS}
    for index in range(patients):
        rng = np.random.default_rng([seed, index])
        name = f"patient{index + 1:04d}"
        pdir = out / name
        pdir.mkdir(exist_ok=True)
        anatomy = patient_anatomy(rng)
        for view in VIEWS:
            quality = qualities[view][index]
            n_frames = int(rng.integers(12, 22))
            info = {
                "ED": 1,
                "ES": n_frames,
                "NbFrame": n_frames,
                "Sex": "F" if rng.random() < 0.5 else "M",
                "Age": int(rng.integers(20, 90)),
                "ImageQuality": quality,
                "EF": int(round(100 * (1 - anatomy["ef_shrink"] ** 2))),
                "FrameRate": 50,
            }
            (pdir / f"Info_{view}.cfg").write_text(format_info_cfg(info))
            for phase in PHASES:
                image = render_frame(view, phase, quality, anatomy, rng, size)
                write_nifti(pdir / f"{name}_{view}_{phase}.nii.gz", image, spacing)
        if progress:
            progress(index + 1, patients)
    return out
