"""Tissue scatterer fields: reflectivity and scatterer density per region, one fixed draw per acquisition.

A scatterer field is complex: each beam-space cell holds a circular Gaussian amplitude (a
sum of many sub-resolution scatterers) kept or emptied with the tissue's scatterer density.
Dense tissue then gives fully developed speckle (Rayleigh envelope) after the PSF; sparse
tissue gives brighter, spottier speckle. The random draws belong to the acquisition, not to
the frame, so the ED, ES and cine frames of one view share their speckle where tissue is still.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Amplitude reflectivity relative to myocardium, and the fraction of cells holding scatterers.
REFLECTIVITY: dict[str, float] = {
    "tissue": 0.28,
    "lv_myo": 1.0,
    "rv_myo": 0.9,
    "lv": 0.012,
    "la": 0.012,
    "rv": 0.012,
    "ra": 0.012,
    "valve": 2.2,
    "la_wall": 0.8,
    "pericardium": 3.0,
    "chest_wall": 0.6,
}
DENSITY: dict[str, float] = {
    "tissue": 0.5,
    "lv_myo": 1.0,
    "rv_myo": 1.0,
    "lv": 1.0,
    "la": 1.0,
    "rv": 1.0,
    "ra": 1.0,
    "valve": 1.0,
    "la_wall": 0.8,
    "pericardium": 0.6,
    "chest_wall": 0.5,
}


@dataclass(frozen=True)
class ScattererDraw:
    """The random part of one acquisition's scatterers, on the beam grid (samples × beams)."""

    amplitude: np.ndarray  # complex64 circular Gaussian, unit power
    occupancy: np.ndarray  # float32 uniform [0, 1): a cell holds scatterers where below the density
    texture: np.ndarray  # float32 smooth log-normal modulation of generic tissue (mean ≈ 1)


def draw_scatterers(shape: tuple[int, int], rng: np.random.Generator) -> ScattererDraw:
    """Draw the fixed scatterer randomness of one acquisition on a beam grid of ``shape``."""
    real = rng.standard_normal(shape, dtype=np.float32)
    imag = rng.standard_normal(shape, dtype=np.float32)
    amplitude = ((real + 1j * imag) * np.float32(np.sqrt(0.5))).astype(np.complex64)
    occupancy = rng.random(shape, dtype=np.float32)
    smooth = cv2.GaussianBlur(rng.standard_normal(shape, dtype=np.float32), (0, 0), 6.0)
    smooth /= max(float(smooth.std()), 1e-6)
    texture = np.exp(0.35 * smooth - 0.5 * 0.35**2).astype(np.float32)
    return ScattererDraw(amplitude, occupancy, texture)


def chest_wall_layers(z: np.ndarray) -> np.ndarray:
    """Reflectivity of the skin, fat and muscle layers above the heart: bright and dark bands with depth."""
    return (0.55 + 0.45 * np.cos(z * 0.9) * np.exp(-z / 25.0)).astype(np.float32)


def scatterer_field(maps: dict[str, np.ndarray], draw: ScattererDraw, z: np.ndarray) -> np.ndarray:
    """Complex64 scatterer field (samples × beams) of the regions ``maps`` (anatomy.regions on the beam grid).

    The field's local power is the region's reflectivity squared, whatever its density.
    """
    reflectivity = np.full(draw.amplitude.shape, REFLECTIVITY["tissue"], np.float32) * draw.texture
    density = np.full(draw.amplitude.shape, DENSITY["tissue"], np.float32)
    for name, region in maps.items():
        if name == "chest_wall":
            reflectivity[region] = (chest_wall_layers(z) * draw.texture)[region]
        else:
            reflectivity[region] = REFLECTIVITY[name]
        density[region] = DENSITY[name]
    occupied = draw.occupancy < density
    return (draw.amplitude * (occupied * reflectivity / np.sqrt(density))).astype(np.complex64)
