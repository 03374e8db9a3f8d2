"""Bench frames from a user's CAMUS tree: pre-processed to the bundle's HR size, with labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.calibration.sets import stratified_frames
from echosr_edge.data.camus import read_camus
from echosr_edge.data.preprocess import resize_unit


def frames_from_tree(root: Path, manifest: Manifest, count: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Up to ``count`` frames of ``root`` stratified by quality, view and phase (N×H×W uint8) and labels."""
    frames = stratified_frames(read_camus(root).frames, count, seed, warn_below=None)
    hr_size = int((manifest.sr_model() or manifest.models[0]).preprocessing["hr_size"])
    images = np.stack([(resize_unit(f.image, hr_size) * 255.0 + 0.5).astype(np.uint8) for f in frames])
    labels = {task: [f.label(task) for f in frames] for task in ("view", "phase", "quality")}
    return images, labels
