"""Apical 2CH/4CH heart geometry and its motion over the ED→ES half cycle, in millimetres.

Everything is an implicit shape evaluated on any grid of probe coordinates: ``x`` lateral
(positive to the image's right) and ``z`` depth from the probe, both in mm. The heart sits in
its own frame (``u`` along the LV long axis from the apex, ``v`` across it), placed by the
acquisition's probe pose. The same functions rasterise the scatterer map in beam space and the
``_gt`` masks on the image grid, so masks and images agree by construction.

Regions: LV cavity and myocardium (a bullet: half an ellipse closed at the mitral annulus),
LA below it, the closed mitral valve at the annulus, the pericardium around the ventricles,
and for 4CH the right ventricle (thinner free wall, shorter) and right atrium on the left.
At end-systole the cavity shortens and narrows, the wall thickens and the annulus descends
towards the apex while the atria fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

REGIONS = ("lv", "lv_myo", "la", "la_wall", "rv", "rv_myo", "ra", "valve", "pericardium", "chest_wall")


@dataclass(frozen=True)
class Heart:
    """One patient's heart at end-diastole, and how it contracts (shared by both views)."""

    lv_length: float  # mm, endocardial apex to mitral annulus
    lv_radius: float  # mm, endocardial half-width at the base
    wall: float  # mm, myocardium at ED
    radius_es: float  # ES/ED ratio of the cavity half-width
    length_es: float  # ES/ED ratio of the cavity length
    thickening: float  # ES/ED ratio of the wall
    la_length: float  # mm, LA semi-axis along the long axis at ED
    la_radius: float  # mm
    la_fill: float  # ES/ED ratio of the LA semi-axes
    rv_ratio: float  # RV half-width / LV half-width
    rv_length: float  # RV length / LV length

    @property
    def ejection_fraction(self) -> float:
        """EF of the half-ellipsoid cavity (volume ∝ radius² × length)."""
        return 1.0 - self.radius_es**2 * self.length_es

    @property
    def ed_volume_ml(self) -> float:
        """End-diastolic volume of the half-ellipsoid cavity in mL."""
        return 2.0 / 3.0 * math.pi * self.lv_radius**2 * self.lv_length / 1000.0


@dataclass(frozen=True)
class Pose:
    """Where the probe puts the heart in one acquisition (one per patient-view: ED, ES and the cine share it)."""

    apex_depth: float  # mm from the probe to the epicardial apex
    tilt: float  # rad, long axis against the beam axis
    offset: float  # mm, lateral shift of the apex


def draw_heart(rng: np.random.Generator) -> Heart:
    """A plausible adult heart (dimensions in the range of apical echo measurements)."""
    return Heart(
        lv_length=rng.uniform(62.0, 78.0),
        lv_radius=rng.uniform(19.0, 25.0),
        wall=rng.uniform(8.0, 11.0),
        radius_es=rng.uniform(0.70, 0.84),
        length_es=rng.uniform(0.84, 0.92),
        thickening=rng.uniform(1.25, 1.45),
        la_length=rng.uniform(17.0, 22.0),
        la_radius=rng.uniform(15.0, 20.0),
        la_fill=rng.uniform(1.10, 1.25),
        rv_ratio=rng.uniform(0.70, 0.85),
        rv_length=rng.uniform(0.72, 0.85),
    )


def draw_pose(rng: np.random.Generator) -> Pose:
    """A probe pose for one view of one patient."""
    return Pose(apex_depth=rng.uniform(14.0, 22.0), tilt=rng.uniform(-0.12, 0.12), offset=rng.uniform(-6.0, 6.0))


def _bullet(u, v, apex: float, base: float, centre_v: float, radius: float):
    """Inside a half-ellipse from ``apex`` to the flat ``base`` (u axis), half-width ``radius``."""
    length = base - apex
    return (u <= base) & (((u - base) / length) ** 2 + ((v - centre_v) / radius) ** 2 <= 1.0)


def _ellipse(u, v, centre_u: float, centre_v: float, semi_u: float, semi_v: float):
    return ((u - centre_u) / semi_u) ** 2 + ((v - centre_v) / semi_v) ** 2 <= 1.0


def regions(view: str, systole: float, heart: Heart, pose: Pose, x: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean maps of each region (``REGIONS``) at ``systole`` (0 = ED, 1 = ES) on the grid ``x``, ``z`` (mm).

    The maps are disjoint; pixels in none are generic tissue.
    """
    s = float(np.clip(systole, 0.0, 1.0))
    c, si = math.cos(pose.tilt), math.sin(pose.tilt)
    dx, dz = x - pose.offset, z - pose.apex_depth
    u = c * dz + si * dx
    v = -si * dz + c * dx

    wall = heart.wall * (1.0 + (heart.thickening - 1.0) * s)
    radius = heart.lv_radius * (1.0 + (heart.radius_es - 1.0) * s)
    length = heart.lv_length * (1.0 + (heart.length_es - 1.0) * s)
    apex = heart.wall  # the epicardial apex stays put; the endocardium follows the ED wall
    base = apex + length  # the annulus descends towards the apex in systole
    la_fill = 1.0 + (heart.la_fill - 1.0) * s
    la_len, la_rad = heart.la_length * la_fill, heart.la_radius * (1.0 + (la_fill - 1.0) * 0.6)

    lv_v = 0.0 if view == "2CH" else heart.lv_radius * 0.55
    out: dict[str, np.ndarray] = {}
    lv = _bullet(u, v, apex, base, lv_v, radius)
    lv_outer = _bullet(u, v, apex - wall, base, lv_v, radius + wall)
    taken = lv_outer.copy()
    out["lv"] = lv
    out["lv_myo"] = lv_outer & ~lv
    valve = (np.abs(u - base - 1.0) <= 1.2) & (np.abs(v - lv_v) <= radius + 0.5 * wall)
    la_centre = base + 2.2 + la_len
    la = _ellipse(u, v, la_centre, lv_v, la_len, la_rad)
    la_wall = _ellipse(u, v, la_centre, lv_v, la_len + 2.0, la_rad + 2.0) & ~la
    peri_outer = _bullet(u, v, apex - wall - 4.0, base + 4.0, lv_v, radius + wall + 4.0)
    peri_inner = _bullet(u, v, apex - wall - 1.5, base + 4.0, lv_v, radius + wall + 1.5)
    pericardium = peri_outer & ~peri_inner
    if view == "4CH":
        rv_rad = heart.lv_radius * heart.rv_ratio * (1.0 + (heart.radius_es - 1.0) * s * 0.8)
        rv_v = lv_v - radius - wall - rv_rad - 1.0
        rv_apex = base - length * heart.rv_length
        rv = _bullet(u, v, rv_apex, base, rv_v, rv_rad) & ~taken
        rv_outer = _bullet(u, v, rv_apex - 4.0, base, rv_v, rv_rad + 4.0) & ~taken
        ra = _ellipse(u, v, base + 2.2 + la_len * 0.9, rv_v, la_len * 0.9, rv_rad * 0.95)
        ra_wall = _ellipse(u, v, base + 2.2 + la_len * 0.9, rv_v, la_len * 0.9 + 2.0, rv_rad * 0.95 + 2.0) & ~ra
        valve |= (np.abs(u - base - 1.0) <= 1.2) & (np.abs(v - rv_v) <= rv_rad)
        out["rv"], out["rv_myo"], out["ra"] = rv, rv_outer & ~rv, ra & ~la & ~la_wall
        la_wall = la_wall | (ra_wall & ~la)
        pericardium |= _bullet(u, v, rv_apex - 7.0, base + 4.0, rv_v, rv_rad + 7.0) & ~_bullet(u, v, rv_apex - 5.0, base + 4.0, rv_v, rv_rad + 5.0)
        taken |= rv_outer | rv
    else:
        out["rv"] = out["rv_myo"] = out["ra"] = np.zeros_like(lv)
    out["valve"] = valve & ~lv & ~out["rv"]
    taken |= out["valve"]
    out["la"] = la & ~taken
    taken |= out["la"] | out["ra"]
    out["la_wall"] = la_wall & ~taken
    taken |= out["la_wall"]
    out["pericardium"] = pericardium & ~taken
    out["chest_wall"] = (z < pose.apex_depth - 4.0) & ~taken
    return out


def camus_labels(maps: dict[str, np.ndarray]) -> np.ndarray:
    """CAMUS ``_gt`` labels (uint8): 1 LV cavity, 2 LV myocardium, 3 left atrium, 0 elsewhere."""
    labels = np.zeros(maps["lv"].shape, np.uint8)
    labels[maps["lv_myo"]] = 2
    labels[maps["lv"]] = 1
    labels[maps["la"]] = 3
    return labels
