"""Calibration frames: drawn from the data, stratified by quality tier, view and phase.

Poor frames are what the SR model sees at the bedside, so every tier present is represented.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np

from echosr_edge.data.records import Frame

log = logging.getLogger(__name__)
MIN_RECOMMENDED = 32


def stratified_frames(
    frames: list[Frame], count: int, seed: int = 0, warn_below: int | None = MIN_RECOMMENDED
) -> list[Frame]:
    """Up to ``count`` frames, round-robin over (quality, view, phase) strata, seeded.

    Logs a warning when fewer than ``warn_below`` frames could be drawn (None: never).
    """
    if not frames:
        raise ValueError("the calibration set is empty: no frames were found in the calibration data")
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
            "calibration set has %d frames (fewer than %d recommended): INT8 ranges may be poor",
            len(chosen),
            warn_below,
        )
    return chosen
