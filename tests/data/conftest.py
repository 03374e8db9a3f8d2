"""Data fixtures: the same synthetic patients in both CAMUS layouts, and in-memory frame sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from echosr_edge.data.records import PHASES, VIEWS, Frame
from echosr_edge.data.synth import allocate_qualities

TWIN_PATIENTS = 6
TWIN_SIZE = (48, 40)


@pytest.fixture(scope="session")
def twin_trees(tmp_path_factory) -> dict[str, Path]:
    """Six synthetic patients (seed 5) written as a full 2019 and a full 2023 release, with cines and masks."""
    from echosr_edge.data.synth_tree import write_synthetic_camus

    base = tmp_path_factory.mktemp("twins")
    return {
        release: write_synthetic_camus(
            base / release, patients=TWIN_PATIENTS, seed=5, size=TWIN_SIZE, spacing=(0.154, 0.308),
            release=release, full_release=True, cines=True, masks=True,
        )
        for release in ("2019", "2023")
    }


def label_only_frames(patients: int, seed: int = 0, mix: str = "table1") -> list[Frame]:
    """Frames with CAMUS labels and 4×4 blank images: enough for task sets and splits, no disk."""
    rng = np.random.default_rng(seed)
    quality = {view: allocate_qualities(patients, view, rng, mix) for view in VIEWS}
    image = np.zeros((4, 4), np.uint8)
    return [
        Frame(f"patient{i + 1:04d}", view, phase, quality[view][i], image, (0.3, 0.3), Path(f"patient{i + 1:04d}_{view}_{phase}"))
        for i in range(patients)
        for view in VIEWS
        for phase in PHASES
    ]


@pytest.fixture(scope="session")
def camus_500() -> list[Frame]:
    """500 label-only patients in CAMUS's Table 1 proportions (2,000 frames)."""
    return label_only_frames(500)
