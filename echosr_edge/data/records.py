"""Typed records for CAMUS frames and their labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VIEWS: tuple[str, ...] = ("2CH", "4CH")
PHASES: tuple[str, ...] = ("ED", "ES")
QUALITIES: tuple[str, ...] = ("good", "medium", "poor")

# Classification tasks: the label set of each, in the order of the classifier's outputs.
TASK_LABELS: dict[str, tuple[str, ...]] = {
    "view": VIEWS,
    "phase": PHASES,
    "quality": QUALITIES,
}


@dataclass(frozen=True, eq=False)
class Frame:
    """One labelled CAMUS frame.

    ``image`` is H×W uint8 with the probe apex at the top (row 0) whatever the release;
    ``spacing`` is (row, column) pixel spacing in millimetres.
    """

    patient: str
    view: str
    phase: str
    quality: str
    image: np.ndarray
    spacing: tuple[float, float]
    source: Path
    meta: dict = field(default_factory=dict)

    def label(self, task: str) -> str:
        """The frame's label for ``task`` ('view', 'phase' or 'quality')."""
        if task not in TASK_LABELS:
            raise KeyError(f"unknown task {task!r}; tasks: {', '.join(TASK_LABELS)}")
        return {"view": self.view, "phase": self.phase, "quality": self.quality}[task]

    @property
    def key(self) -> str:
        """A stable identifier: patient_view_phase."""
        return f"{self.patient}_{self.view}_{self.phase}"
