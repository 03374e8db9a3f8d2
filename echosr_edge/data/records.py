"""Typed records for CAMUS frames, cines and their labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VIEWS: tuple[str, ...] = ("2CH", "4CH")
PHASES: tuple[str, ...] = ("ED", "ES")
QUALITIES: tuple[str, ...] = ("good", "medium", "poor")
RELEASES: tuple[str, ...] = ("2019", "2023")

# Classification tasks: the label set of each, in the order of the classifier's outputs.
TASK_LABELS: dict[str, tuple[str, ...]] = {
    "view": VIEWS,
    "phase": PHASES,
    "quality": QUALITIES,
    # The out-of-distribution gate: is the frame a cardiac view at all? (data/outliers.py)
    "cardiac": ("cardiac", "other"),
}

# CAMUS segmentation labels in the ``_gt`` masks.
MASK_LABELS: dict[int, str] = {0: "background", 1: "LV endocardium", 2: "LV myocardium", 3: "left atrium"}


@dataclass(frozen=True, eq=False)
class Frame:
    """One labelled CAMUS frame.

    ``image`` is H×W uint8 with the probe apex at the top (row 0) whatever the release;
    ``spacing`` is (row, column) pixel spacing in millimetres. ``meta`` holds the view's
    other Info cfg entries (ED, ES, NbFrame, Sex, Age…, as strings). ``mask`` is the H×W
    uint8 ``_gt`` segmentation (labels in MASK_LABELS) when it was read, else None.
    """

    patient: str
    view: str
    phase: str
    quality: str
    image: np.ndarray
    spacing: tuple[float, float]
    source: Path
    meta: dict = field(default_factory=dict)
    mask: np.ndarray | None = None

    def label(self, task: str) -> str:
        """The frame's label for ``task`` ('view', 'phase', 'quality' or 'cardiac').

        Every CAMUS frame is 'cardiac'; synthetic outliers carry ``meta['cardiac'] = 'other'``.
        """
        if task not in TASK_LABELS:
            raise KeyError(f"unknown task {task!r}; tasks: {', '.join(TASK_LABELS)}")
        if task == "cardiac":
            return self.meta.get("cardiac", "cardiac")
        return {"view": self.view, "phase": self.phase, "quality": self.quality}[task]

    @property
    def key(self) -> str:
        """A stable identifier: patient_view_phase."""
        return f"{self.patient}_{self.view}_{self.phase}"


@dataclass(frozen=True, eq=False)
class Cine:
    """One view's image sequence, in the same orientation as Frame.

    ``frames`` is T×H×W uint8 (apex at row 0); ``ed_index`` and ``es_index`` are 0-based
    indices into it (CAMUS's cfg counts from 1; readers convert). The 2019 release stores
    ``_sequence`` files, the 2023 release ``_half_sequence`` files (ED to ES).
    """

    patient: str
    view: str
    quality: str
    frames: np.ndarray
    ed_index: int
    es_index: int
    spacing: tuple[float, float]
    source: Path

    @property
    def key(self) -> str:
        """A stable identifier: patient_view."""
        return f"{self.patient}_{self.view}"

    def phase_frame(self, phase: str) -> np.ndarray:
        """The H×W frame at ``phase`` ('ED' or 'ES')."""
        if phase not in PHASES:
            raise KeyError(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
        return self.frames[self.ed_index if phase == "ED" else self.es_index]
