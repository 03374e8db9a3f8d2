"""Calibration frames: drawn from the data, stratified by quality tier, view and phase.

Poor frames are what the SR model sees at the bedside, so every tier present is represented.
A calibration set comes from a CAMUS tree (stratified) or from an ``.npy`` stack of N×H×W grey
frames (frames from the target scanner, unlabelled). Whatever its source, an empty or wrongly
shaped set is refused with a :class:`DataError` naming the source and the problem.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echosr_edge.data.records import Frame
from echosr_edge.errors import DataError

log = logging.getLogger(__name__)
MIN_RECOMMENDED = 32
MIN_SIDE = 8


@dataclass(frozen=True)
class CalibrationSet:
    """Frames to calibrate on: H×W grey images (uint8, or float in [0, 1]) and where they came from."""

    images: tuple[np.ndarray, ...]
    source: str
    strata: dict = field(default_factory=dict)  # "quality/view/phase" → count (CAMUS sources only)
    too_small: bool = False
    labels: dict = field(default_factory=dict)  # task → one label per image (CAMUS sources only)

    def __len__(self) -> int:
        return len(self.images)


def stratified_frames(
    frames: list[Frame],
    count: int,
    seed: int = 0,
    warn_below: int | None = MIN_RECOMMENDED,
    source: str | Path = "calibration frames",
) -> list[Frame]:
    """Up to ``count`` frames, round-robin over (quality, view, phase) strata, seeded.

    Logs a warning when fewer than ``warn_below`` frames could be drawn (None: never).
    """
    if not frames:
        raise DataError(source, "the calibration set is empty: no frames were found")
    strata: dict[tuple, list[Frame]] = defaultdict(list)
    for f in frames:
        strata[(f.quality, f.view, f.phase)].append(f)
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(len(v))) for v in strata.values()]
    keys = list(strata)
    chosen: list[Frame] = []
    while len(chosen) < count and any(pools):
        for key, pool in zip(keys, pools):
            if pool and len(chosen) < count:
                chosen.append(strata[key][pool.pop()])
    if warn_below is not None and len(chosen) < warn_below:
        log.warning(
            "%s: the calibration set has %d frames (fewer than %d recommended): INT8 ranges may be poor",
            source,
            len(chosen),
            warn_below,
        )
    return chosen


def check_frame_stack(array: np.ndarray, source: str | Path) -> np.ndarray:
    """Validate an N×H×W (or N×H×W×1) stack of grey frames; returns it as N×H×W."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "uif":
        raise DataError(source, "a calibration stack must be a numeric array of N×H×W grey frames")
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise DataError(source, f"a calibration stack must be N×H×W grey frames, got shape {array.shape}")
    if array.shape[0] == 0:
        raise DataError(source, "the calibration set is empty: the stack holds 0 frames")
    if min(array.shape[1:]) < MIN_SIDE:
        raise DataError(source, f"calibration frames of {array.shape[1]}×{array.shape[2]} are too small (min {MIN_SIDE} px)")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise DataError(source, "the calibration stack holds NaN or infinite values")
    return array


def check_model_inputs(inputs: np.ndarray, spatial: tuple[int, int] | None, source: str | Path) -> np.ndarray:
    """Validate model inputs N×1×H×W float32 (H×W = ``spatial`` unless None); returns them."""
    if not isinstance(inputs, np.ndarray) or inputs.ndim != 4 or inputs.shape[1] != 1:
        shape = getattr(inputs, "shape", type(inputs).__name__)
        raise DataError(source, f"calibration inputs must be N×1×H×W (grey), got shape {shape}")
    if len(inputs) == 0:
        raise DataError(source, "the calibration set is empty: 0 inputs")
    if spatial is not None and tuple(inputs.shape[2:]) != tuple(spatial):
        raise DataError(
            source, f"calibration inputs are {inputs.shape[2]}×{inputs.shape[3]}, the model takes {spatial[0]}×{spatial[1]}"
        )
    if not np.isfinite(inputs).all():
        raise DataError(source, "calibration inputs hold NaN or infinite values")
    return np.ascontiguousarray(inputs, dtype=np.float32)


def from_frames(frames: list[Frame], count: int, seed: int = 0, source: str | Path = "calibration frames") -> CalibrationSet:
    """A stratified calibration set of up to ``count`` CAMUS frames."""
    chosen = stratified_frames(frames, count, seed, warn_below=MIN_RECOMMENDED, source=source)
    strata = Counter(f"{f.quality}/{f.view}/{f.phase}" for f in chosen)
    labels = {task: tuple(f.label(task) for f in chosen) for task in ("view", "phase", "quality")}
    return CalibrationSet(
        tuple(f.image for f in chosen), str(source), dict(sorted(strata.items())), len(chosen) < MIN_RECOMMENDED, labels
    )


def from_stack(path: Path, count: int, seed: int = 0) -> CalibrationSet:
    """A calibration set of up to ``count`` frames, seeded, from an ``.npy`` N×H×W stack."""
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(path, f"not a readable .npy array ({exc})") from exc
    array = check_frame_stack(array, path)
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(array), size=min(count, len(array)), replace=False))
    if len(picked) < MIN_RECOMMENDED:
        log.warning("%s: the calibration set has %d frames (fewer than %d recommended): INT8 ranges may be poor", path, len(picked), MIN_RECOMMENDED)
    return CalibrationSet(tuple(array[i] for i in picked), str(path), {}, len(picked) < MIN_RECOMMENDED)
