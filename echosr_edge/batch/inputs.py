"""Batch inputs: find the scan files under a folder and read each one's frames.

Kinds: NIfTI (``.nii``, ``.nii.gz``), DICOM (``.dcm``/``.dicom``, or a suffix-less file with the
``DICM`` preamble, as scanners often write them), images (PNG/JPEG/BMP/TIFF, one frame each) and
video (mp4/avi/mov/mkv/m4v). DICOM patient identifiers are dropped from the metadata unless the
caller asks to keep them.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.readers import file_kind, open_file, read_dicom_frames

KINDS = ("nifti", "dicom", "image", "video")  # what a batch reads (not MetaImage)
# Annotations beside the acquisitions in a CAMUS-format tree, not scans: CAMUS's segmentation
# masks (``_gt``) and the simulator's clean twins (``_clean``). Passed over unless asked for.
GROUND_TRUTH = ("*_gt.nii", "*_gt.nii.gz", "*_clean.nii", "*_clean.nii.gz")


@dataclass(frozen=True)
class InputFile:
    """A file to process: where it is, its path relative to the input root (POSIX), its kind."""

    path: Path
    relative: str
    kind: str


@dataclass(frozen=True)
class Discovery:
    """The files a batch will process, and how many others were passed over."""

    files: tuple[InputFile, ...]
    unsupported: int  # files of no kind the batch reads
    filtered: int  # supported files left out by --include/--exclude
    ground_truth: int = 0  # masks and clean twins passed over (GROUND_TRUTH)


def input_kind(path: Path) -> str | None:
    """The kind of ``path`` ('nifti', 'dicom', 'image', 'video'), or None if the batch skips it."""
    kind = file_kind(path)
    return kind if kind in KINDS else None


def matches(relative: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True if the POSIX ``relative`` path or its file name matches any glob (``*`` crosses ``/``)."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def discover_inputs(
    root: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    skip_under: Path | None = None,
    ground_truth: bool = False,
) -> Discovery:
    """Every supported file under ``root`` (recursive, hidden entries skipped), sorted by path.

    A file is kept when it matches an ``include`` glob (all files when there is none) and no
    ``exclude`` glob. ``skip_under`` (the output folder, when it lies inside ``root``) is never
    entered, so a second run does not read the first run's images. Segmentation masks and clean
    twins (``GROUND_TRUTH``) are passed over and counted unless ``ground_truth``.
    """
    root = Path(root)
    if not root.is_dir():
        raise EchoSRError(f"input folder not found: {root}")
    skip = Path(skip_under).resolve() if skip_under else None
    files, unsupported, filtered, annotations = [], 0, 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (skip is None or (here / d).resolve() != skip)
        )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            kind = input_kind(path)
            if kind is None:
                unsupported += 1
                continue
            relative = path.relative_to(root).as_posix()
            if not ground_truth and matches(relative, GROUND_TRUTH):
                annotations += 1
                continue
            if (include and not matches(relative, include)) or matches(relative, exclude):
                filtered += 1
                continue
            files.append(InputFile(path, relative, kind))
    files.sort(key=lambda f: f.relative)
    return Discovery(tuple(files), unsupported, filtered, annotations)


# ---------------------------------------------------------------- reading


def read_input(inp: InputFile, keep_phi: bool = False) -> tuple[Iterator[np.ndarray], dict]:
    """The frames of ``inp`` (each H×W uint8 or H×W×3 BGR uint8) and its metadata.

    Read through ``runtime.readers.open_file``, as ``run`` and ``inspect`` read. Still images,
    NIfTI and DICOM are decoded at once, so a damaged file fails here; a video is decoded as it
    is iterated. DICOM identifiers are left out unless ``keep_phi``. Raises DataError naming the file.
    """
    if inp.kind == "dicom":
        frames, tags = read_dicom_frames(inp.path, keep_phi)
        return iter(frames), {"frames": len(frames), "dicom": tags}
    opened = open_file(inp.path, inp.kind)
    if inp.kind == "video":
        return opened.frames(), {}
    frames = list(opened.frames())
    meta = {"frames": len(frames)}
    if opened.spacing_mm is not None:
        meta["spacing_mm"] = list(opened.spacing_mm)
    return iter(frames), meta
