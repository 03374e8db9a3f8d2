"""Crop a frame to the ultrasound sector (the fan) found from its non-black region.

A scanner's screen capture or a letterboxed video carries black borders, text and UI around
the fan; the models were trained on CAMUS-like frames where the fan fills the image. The box
comes from ``runtime.region.find_image_region`` (text, rulers, ECG traces and coloured UI
ignored), else from ``find_sector`` below, and is reused for ``every`` frames, or until the
frame size changes. A frame whose fan already fills it (as CAMUS frames do) is left alone, so
the runtime feeds the models what they were trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SectorBox:
    """Rows [top, bottom) and columns [left, right) of the sector in the full frame."""

    top: int
    left: int
    bottom: int
    right: int

    def as_list(self) -> list[int]:
        return [self.top, self.left, self.bottom, self.right]


def find_sector(
    grey: np.ndarray, threshold: int = 12, stride: int = 4, min_area: float = 0.05
) -> SectorBox | None:
    """Bounding box of the largest bright connected region of an H×W uint8 frame, or None.

    None when nothing covers ``min_area`` of the frame (a blank frame). Text and UI elements
    apart from the fan form their own, smaller regions and are ignored.
    """
    h, w = grey.shape[:2]
    stride = max(1, min(stride, h // 16, w // 16))
    small = grey[::stride, ::stride]
    mask = (small > threshold).astype(np.uint8)
    # Closing bridges dark chambers and speckle inside the fan. No opening: it would erode the
    # fan's apex, a point, and the box would lose its top; isolated noise forms its own regions.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8), iterations=2)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh, area = (int(v) for v in stats[best])
    if area < min_area * mask.size:
        return None
    # Refine at full resolution near the coarse box: the strided copy misses the fan's thin apex.
    m = 3 * stride
    top, left = max(0, y * stride - m), max(0, x * stride - m)
    bottom, right = min(h, (y + bh) * stride + m), min(w, (x + bw) * stride + m)
    near = grey[top:bottom, left:right] > threshold
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    return SectorBox(top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1)


class SectorCropper:
    """Crops frames to their sector, re-detecting it every ``every`` frames or on a size change.

    ``min_margin``: crop only when the borders take at least this fraction of the height or the
    width (otherwise the frame already is the sector). ``pad``: margin kept around the box, as
    a fraction of its size.
    """

    def __init__(self, every: int = 30, min_margin: float = 0.1, pad: float = 0.02, threshold: int = 12):
        self.every = max(1, every)
        self.min_margin = min_margin
        self.pad = pad
        self.threshold = threshold
        self.detections = 0
        self._shape: tuple[int, ...] | None = None
        self._age = 0
        self._box: SectorBox | None = None

    def box_for(self, grey: np.ndarray, frame: np.ndarray | None = None) -> SectorBox | None:
        """The crop box for this frame (None: use the whole frame); ``frame``: the BGR original, if any."""
        if grey.shape != self._shape or self._age >= self.every:
            self._shape, self._age = grey.shape, 0
            self._box = self._detect(grey if frame is None else frame)
            self.detections += 1
        self._age += 1
        return self._box

    def _detect(self, frame: np.ndarray) -> SectorBox | None:
        from echosr_edge.runtime.region import find_image_region

        # The screen-capture detector (colour, text, rulers, ECG); find_sector, the plain largest
        # bright region, where it finds nothing textured (a synthetic flat test pattern).
        found = find_image_region(frame)
        if found is None:
            grey = frame if frame.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_BGR2GRAY)
            found = find_sector(grey, self.threshold)
        if found is None:
            return None
        h, w = frame.shape[:2]
        bh, bw = found.bottom - found.top, found.right - found.left
        if bh > (1 - self.min_margin) * h and bw > (1 - self.min_margin) * w:
            return None
        py, px = int(round(bh * self.pad)), int(round(bw * self.pad))
        return SectorBox(max(0, found.top - py), max(0, found.left - px), min(h, found.bottom + py), min(w, found.right + px))

    def __call__(self, grey: np.ndarray, frame: np.ndarray | None = None) -> tuple[np.ndarray, SectorBox | None]:
        """(the cropped H'×W' view of ``grey``, the box used or None); ``frame``: the BGR original."""
        box = self.box_for(grey, frame)
        if box is None:
            return grey, None
        return grey[box.top : box.bottom, box.left : box.right], box
