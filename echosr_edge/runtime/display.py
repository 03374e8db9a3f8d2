"""The picture a window or a recording shows: original | enhanced side by side, with labels and fps."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from echosr_edge.data.preprocess import to_grey
from echosr_edge.runtime.enhanced_view import display_aspect, frame_flag, restore_aspect
from echosr_edge.runtime.pipeline import FrameResult

VIEW_MODES = ("side-by-side", "original", "enhanced")
PANE = 384  # pane height in pixels


def display_available() -> bool:
    """Whether a window can open: OpenCV built with a GUI backend and, on Linux, a display to show it on."""
    info = cv2.getBuildInformation()
    gui_lines = [line for line in info.splitlines() if line.strip().startswith("GUI:")]
    if gui_lines and gui_lines[0].split(":", 1)[1].strip().upper() in ("NONE", "NO"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _pane(image: np.ndarray, height: int) -> np.ndarray:
    """An H×W grey (uint8, or float in [0, 1]) or BGR image as a BGR pane ``height`` tall."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    grey = to_grey(image)
    width = max(1, round(grey.shape[1] * height / grey.shape[0]))
    pane = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA if grey.shape[0] > height else cv2.INTER_CUBIC)
    return cv2.cvtColor(pane, cv2.COLOR_GRAY2BGR)


def _fit(pane: np.ndarray, size: int) -> np.ndarray:
    """A BGR pane scaled to fit a ``size``×``size`` box without distortion, centred on black."""
    h, w = pane.shape[:2]
    f = size / max(h, w)
    nh, nw = max(1, round(h * f)), max(1, round(w * f))
    if (nh, nw) != (h, w):
        pane = cv2.resize(pane, (nw, nh), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    box = np.zeros((size, size, 3), np.uint8)
    top, left = (size - nh) // 2, (size - nw) // 2
    box[top : top + nh, left : left + nw] = pane
    return box


def _text(canvas: np.ndarray, lines: list[str], x: int, y: int) -> None:
    for i, line in enumerate(lines):
        pos = (x, y + 20 * i)
        cv2.putText(canvas, line, pos, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, line, pos, cv2.FONT_HERSHEY_SIMPLEX, 0.5, (80, 255, 80), 1, cv2.LINE_AA)


def overlay_lines(result: FrameResult, fps: float | None, sr_check=None) -> list[str]:
    """The text shown over the picture: labels with confidence, quality, enhancement, fps.

    ``sr_check`` (enhanced_view.SRCheck): where SR scored below bicubic at start-up, the frame
    is never called "enhanced".
    """
    lines = [
        f"{task}: {label} {result.probabilities[task][label]:.0%}" for task, label in result.labels.items()
    ]
    if result.quality is not None:
        lines.append(f"quality: {result.quality}")
    lines.append(frame_flag(result.enhanced_applied, sr_check))
    if fps:
        lines.append(f"{fps:.1f} fps, {result.timings_ms['total']:.0f} ms")
    return lines


def compose_view(
    original: np.ndarray,
    result: FrameResult,
    fps: float | None = None,
    mode: str = "side-by-side",
    labels: bool = True,
    height: int = PANE,
    sr_check=None,
) -> np.ndarray:
    """The BGR picture for one frame: the source frame and/or the image the classifiers saw.

    Each pane is a ``height``-square box, so a recording keeps one size whatever the source
    does; inside it the original keeps its own aspect ratio and the model image is drawn back
    at the aspect of the region it came from (the sector crop, else the whole frame), not the
    models' square, so the fan is not stretched beside the original.
    """
    if mode not in VIEW_MODES:
        raise ValueError(f"view mode must be one of {VIEW_MODES}")
    grey = to_grey(original)
    left = _fit(_pane(grey, height), height)
    right = _fit(_pane(restore_aspect(result.enhanced, display_aspect(grey, result.crop)), height), height)
    if mode == "original":
        canvas = left
    elif mode == "enhanced":
        canvas = right
    else:
        canvas = np.concatenate([left, np.zeros((height, 4, 3), np.uint8), right], axis=1)
    canvas = np.ascontiguousarray(canvas)
    if labels:
        _text(canvas, overlay_lines(result, fps, sr_check), 8, 20)
        if mode == "side-by-side":
            _text(canvas, ["original"], 8, height - 10)
            what = f"model input: SR of the x{sr_check.scale if sr_check else 4}-reduced frame" if result.enhanced_applied else "model input"
            _text(canvas, [what], height + 12, height - 10)
    return canvas
