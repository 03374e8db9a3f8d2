"""Reader for CAMUS trees, either release, through one API.

``read_camus(root)`` accepts the 2019 MetaImage release (``training/`` + ``testing/``) or the
2023 NIfTI release (``database_nifti/`` + ``database_split/``), one of their image folders,
or any folder of ``patientXXXX`` folders (see ``layout``). Each patient folder gives four
frames (2CH/4CH × ED/ES) labelled with the view's ``ImageQuality`` from ``Info_<view>.cfg``;
optionally the ``_gt`` masks and the cines. Frames come out H×W uint8 with the probe apex at
row 0 and (row, column) spacing in mm, whatever the release.

A patient is read whole or skipped: any unreadable file skips it and is listed with its
problem in ``CamusTree.skipped`` (``strict=True`` raises it instead). Stray files inside a
patient folder are listed in ``CamusTree.stray`` and otherwise ignored (``strict`` raises).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from echosr_edge.data.camus_cfg import parse_info_cfg
from echosr_edge.data.layout import RELEASES, CamusLayout, PatientFolder, Release, locate, stray_files
from echosr_edge.data.records import PHASES, VIEWS, Cine, Frame
from echosr_edge.errors import DataError

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class CamusTree:
    """The frames read from a CAMUS tree, and what was skipped.

    ``skipped``: one DataError per patient not read (it names the file and the problem);
    ``stray``: unexpected files that were ignored; ``groups``: the release's patient groups
    (2019: 'training'/'testing' folders; 2023: the ``database_split`` subgroups).
    """

    frames: list[Frame]
    skipped: list[DataError] = field(default_factory=list)
    release: str = ""
    root: Path | None = None
    cines: list[Cine] = field(default_factory=list)
    stray: list[DataError] = field(default_factory=list)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    patients_found: int = 0

    @property
    def patients(self) -> list[str]:
        """The patients read, sorted."""
        return sorted({f.patient for f in self.frames})


def patient_dirs(root: Path) -> list[Path]:
    """The patient folders under a CAMUS root (either release), sorted by name."""
    return [p.path for p in locate(root).patients]


def _release_of(patient_dir: Path) -> Release:
    names = [p.name for p in patient_dir.iterdir()] if patient_dir.is_dir() else []
    if any(n.endswith(".mhd") for n in names):
        return RELEASES["2019"]
    return RELEASES["2023"]


def _single_frame(path: Path, read) -> tuple:
    stack, spacing = read(path)
    if stack.shape[0] != 1:
        raise DataError(path, f"expected one frame, found {stack.shape[0]}")
    return stack[0], spacing


def read_patient(patient_dir: Path, release: Release | str | None = None, masks: bool = False) -> list[Frame]:
    """Read the four labelled frames (2 views × ED/ES) of one patient folder.

    With ``masks`` the ``_gt`` segmentations are read too where present (the 2019 testing
    patients have none: their frames get ``mask=None``).
    """
    patient_dir = Path(patient_dir)
    if isinstance(release, str):
        release = RELEASES[release]
    release = release or _release_of(patient_dir)
    patient = patient_dir.name
    frames = []
    for view in VIEWS:
        info = parse_info_cfg(patient_dir / f"Info_{view}.cfg")
        meta = {k: v for k, v in info.items() if k != "ImageQuality"}
        for phase in PHASES:
            path = release.frame_path(patient_dir, view, phase)
            image, spacing = _single_frame(path, release.read_image)
            mask = None
            mask_path = release.mask_path(patient_dir, view, phase)
            if masks and mask_path.exists():
                mask, _ = _single_frame(mask_path, release.read_mask)
                if mask.shape != image.shape:
                    raise DataError(mask_path, f"mask is {mask.shape[0]}x{mask.shape[1]} but its image is {image.shape[0]}x{image.shape[1]}")
            frames.append(Frame(patient, view, phase, info["ImageQuality"], image, spacing, path, meta, mask))
    return frames


def read_patient_cines(patient_dir: Path, release: Release | str | None = None) -> list[Cine]:
    """Read both views' cines of one patient folder, with their ED/ES indices from the cfg."""
    patient_dir = Path(patient_dir)
    if isinstance(release, str):
        release = RELEASES[release]
    release = release or _release_of(patient_dir)
    cines = []
    for view in VIEWS:
        cfg = patient_dir / f"Info_{view}.cfg"
        info = parse_info_cfg(cfg)
        path = release.cine_path(patient_dir, view)
        frames, spacing = release.read_image(path)
        ed, es = int(info["ED"]), int(info["ES"])
        for key, index in (("ED", ed), ("ES", es)):
            if index > frames.shape[0]:
                raise DataError(cfg, f"{key} = {index} is beyond the {frames.shape[0]} frames of {path.name}")
        cines.append(Cine(patient_dir.name, view, info["ImageQuality"], frames, ed - 1, es - 1, spacing, path))
    return cines


@dataclass
class _PatientResult:
    frames: list[Frame]
    cines: list[Cine]
    stray: list[DataError]
    error: DataError | None


def _read_one(folder: PatientFolder, release: Release, masks: bool, cines: bool) -> _PatientResult:
    stray = stray_files(folder.path, release)
    try:
        frames = read_patient(folder.path, release, masks)
        patient_cines = read_patient_cines(folder.path, release) if cines else []
    except DataError as exc:
        return _PatientResult([], [], stray, exc)
    return _PatientResult(frames, patient_cines, stray, None)


def default_workers() -> int:
    """Reader threads: decompression and file reads release the GIL, so up to 4 help."""
    return max(1, min(4, os.cpu_count() or 1))


def read_camus(
    root: Path,
    strict: bool = False,
    *,
    release: str | None = None,
    masks: bool = False,
    cines: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CamusTree:
    """Read every patient under ``root`` (either release; ``release`` overrides detection).

    A patient with an unreadable file is skipped and listed in ``skipped``; with
    ``strict=True`` the first such problem, or the first stray file, is raised instead.
    ``progress(done, total)`` is called after each patient.
    """
    layout: CamusLayout = locate(root, release)
    tree = CamusTree(frames=[], release=layout.release.name, root=layout.root, groups=dict(layout.groups))
    tree.patients_found = len(layout.patients)
    total = len(layout.patients)
    workers = workers or default_workers()

    def read(folder: PatientFolder) -> _PatientResult:
        return _read_one(folder, layout.release, masks, cines)

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for done, (folder, result) in enumerate(zip(layout.patients, pool.map(read, layout.patients)), start=1):
            if strict and result.stray:
                raise result.stray[0]
            if result.error is not None:
                if strict:
                    raise result.error
                log.warning("skipping %s: %s", folder.name, result.error)
                tree.skipped.append(result.error)
            tree.frames.extend(result.frames)
            tree.cines.extend(result.cines)
            tree.stray.extend(result.stray)
            if progress:
                progress(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return tree
