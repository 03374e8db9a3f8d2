"""Reader for CAMUS trees (2023 NIfTI release layout).

Accepted roots: a folder of ``patientXXXX`` folders, or one holding ``database_nifti/``.
Each patient folder holds ``patientXXXX_{2CH,4CH}_{ED,ES}.nii.gz`` and
``Info_{2CH,4CH}.cfg``; the cfg's ``ImageQuality`` is the expert quality label of that view.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from echosr_edge.data.camus_cfg import parse_info_cfg
from echosr_edge.data.nifti import read_nifti
from echosr_edge.data.records import PHASES, VIEWS, Frame
from echosr_edge.errors import DataError

log = logging.getLogger(__name__)
_PATIENT_DIR = re.compile(r"^patient\d{4}$")


@dataclass
class CamusTree:
    """The frames read from a CAMUS tree, and the patients skipped with their problem."""

    frames: list[Frame]
    skipped: list[DataError] = field(default_factory=list)


def patient_dirs(root: Path) -> list[Path]:
    """The patient folders under a CAMUS root, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder")
    base = root / "database_nifti" if (root / "database_nifti").is_dir() else root
    dirs = sorted(p for p in base.iterdir() if p.is_dir() and _PATIENT_DIR.match(p.name))
    if not dirs:
        raise DataError(root, "no patientXXXX folders found (is this a CAMUS root?)")
    return dirs


def read_patient(patient_dir: Path) -> list[Frame]:
    """Read the four labelled frames (2 views × ED/ES) of one patient folder."""
    patient = patient_dir.name
    frames = []
    for view in VIEWS:
        cfg_path = patient_dir / f"Info_{view}.cfg"
        info = parse_info_cfg(cfg_path)
        for phase in PHASES:
            path = patient_dir / f"{patient}_{view}_{phase}.nii.gz"
            stack, spacing = read_nifti(path)
            if stack.shape[0] != 1:
                raise DataError(path, f"expected one frame, found {stack.shape[0]}")
            frames.append(
                Frame(
                    patient=patient,
                    view=view,
                    phase=phase,
                    quality=info["ImageQuality"],
                    image=stack[0],
                    spacing=spacing,
                    source=path,
                    meta={k: v for k, v in info.items() if k != "ImageQuality"},
                )
            )
    return frames


def read_camus(root: Path, strict: bool = False) -> CamusTree:
    """Read every patient under ``root``.

    A patient with an unreadable file is skipped and listed in ``skipped``; with
    ``strict=True`` the first such problem is raised instead.
    """
    tree = CamusTree(frames=[])
    for patient_dir in patient_dirs(root):
        try:
            tree.frames.extend(read_patient(patient_dir))
        except DataError as exc:
            if strict:
                raise
            log.warning("skipping %s: %s", patient_dir.name, exc)
            tree.skipped.append(exc)
    return tree
