"""Scan conversion: beam space (depth × angle) → a sector image on a Cartesian grid, apex at row 0."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from echosr_edge.data.simulator.formation import BeamGrid


@dataclass(frozen=True)
class ImageGrid:
    """The written frame: ``rows`` × ``cols`` pixels of ``spacing`` mm, the probe at the top centre."""

    rows: int
    cols: int
    spacing: float

    @classmethod
    def for_sector(cls, grid: BeamGrid, spacing: float) -> "ImageGrid":
        """The smallest grid holding the whole sector of ``grid`` at ``spacing`` mm."""
        rows = int(math.ceil(grid.depth_mm / spacing))
        cols = 2 * int(math.ceil(grid.depth_mm * math.sin(grid.half_angle) / spacing))
        return cls(rows, cols, spacing)

    def cartesian(self) -> tuple[np.ndarray, np.ndarray]:
        """Lateral ``x`` and depth ``z`` in mm of every pixel centre (rows × cols each)."""
        z = (np.arange(self.rows, dtype=np.float32) + 0.5) * self.spacing
        x = (np.arange(self.cols, dtype=np.float32) + 0.5 - self.cols / 2.0) * self.spacing
        return np.meshgrid(x, z)


@lru_cache(maxsize=4)
def _maps(grid: BeamGrid, image: ImageGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, z = image.cartesian()
    r = np.hypot(x, z)
    theta = np.arctan2(x, z)
    map_beam = ((theta + grid.half_angle) / grid.dtheta - 0.5).astype(np.float32)
    map_sample = (r / grid.dr - 0.5).astype(np.float32)
    inside = (r <= grid.depth_mm) & (np.abs(theta) <= grid.half_angle)
    return map_beam, map_sample, inside


def sector_mask(grid: BeamGrid, image: ImageGrid) -> np.ndarray:
    """rows × cols bool: the pixels inside the imaged sector."""
    return _maps(grid, image)[2]


def scan_convert(beam_image: np.ndarray, grid: BeamGrid, image: ImageGrid) -> np.ndarray:
    """samples × beams float32 → rows × cols float32, bilinear inside the sector, 0 outside."""
    map_beam, map_sample, inside = _maps(grid, image)
    out = cv2.remap(beam_image.astype(np.float32), map_beam, map_sample, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    out[~inside] = 0.0
    return out
