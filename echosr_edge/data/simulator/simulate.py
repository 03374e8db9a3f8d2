"""One view of one patient: a single acquisition rendered at any points of the cardiac half cycle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from echosr_edge.data.simulator.anatomy import Heart, Pose, camus_labels, regions
from echosr_edge.data.simulator.formation import Acquisition, BeamGrid, form
from echosr_edge.data.simulator.scan_convert import ImageGrid, scan_convert, sector_mask
from echosr_edge.data.simulator.scatterers import draw_scatterers, scatterer_field

DEFAULT_GRID = BeamGrid()
DEFAULT_SPACING = 0.27  # mm: 150 mm deep → 556 × 678 px frames


@dataclass(frozen=True)
class RenderedView:
    """T frames of one view: the acquired frames, their ideal-acquisition twins and their CAMUS masks (T×H×W uint8)."""

    frames: np.ndarray
    clean: np.ndarray | None
    masks: np.ndarray | None


def _to_uint8(display: np.ndarray) -> np.ndarray:
    return (np.clip(display, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def capture(frame: np.ndarray, pixels: int | None) -> np.ndarray:
    """``frame`` (H×W float32 in [0, 1]) through a ``pixels`` × ``pixels`` capture: area ↓, bicubic ↑ back to H×W."""
    if pixels is None:
        return frame
    import cv2

    h, w = frame.shape
    coarse = cv2.resize(frame, (pixels, pixels), interpolation=cv2.INTER_AREA)
    return np.clip(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def render_view(
    view: str,
    heart: Heart,
    pose: Pose,
    acquisition: Acquisition,
    systoles: list[float],
    seed: list[int],
    *,
    grid: BeamGrid = DEFAULT_GRID,
    spacing: float = DEFAULT_SPACING,
    clean: bool = True,
    masks: bool = True,
) -> RenderedView:
    """Render ``view`` at each systole (0 = ED, 1 = ES) through one acquisition with one probe pose.

    The scatterers are drawn once from ``seed`` (speckle is shared by every frame where tissue
    is still); clutter and noise are drawn per frame. ``clean`` adds each frame under the ideal
    acquisition (same anatomy, pose and scatterers); ``masks`` adds the CAMUS labels on the image grid.
    """
    image = ImageGrid.for_sector(grid, spacing)
    xb, zb = grid.cartesian()
    draw = draw_scatterers((grid.samples, grid.beams), np.random.default_rng([*seed, 0]))
    noise_rng = np.random.default_rng([*seed, 1])
    ideal = Acquisition()
    inside = sector_mask(grid, image)
    xi, zi = image.cartesian() if masks else (None, None)
    frames, clean_frames, label_maps = [], [], []
    for s in systoles:
        field = scatterer_field(regions(view, s, heart, pose, xb, zb), draw, zb)
        frames.append(_to_uint8(capture(scan_convert(form(field, grid, acquisition, noise_rng), grid, image), acquisition.capture_px)))
        if clean:
            clean_frames.append(_to_uint8(scan_convert(form(field, grid, ideal, noise_rng), grid, image)))
        if masks:
            labels = camus_labels(regions(view, s, heart, pose, xi, zi))
            labels[~inside] = 0
            label_maps.append(labels)
    return RenderedView(
        np.stack(frames), np.stack(clean_frames) if clean else None, np.stack(label_maps) if masks else None
    )
