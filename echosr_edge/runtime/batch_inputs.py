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

import cv2
import numpy as np

from echosr_edge.errors import DataError, EchoSRError, import_optional
from echosr_edge.runtime.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, VideoFileSource

KINDS = ("nifti", "dicom", "image", "video")
DICOM_SUFFIXES = {".dcm", ".dicom"}
MIN_SIDE = 8

# DICOM attributes that say nothing about who the patient is: copied into the results always.
SAFE_DICOM_TAGS = (
    "Modality",
    "Manufacturer",
    "ManufacturerModelName",
    "SOPClassUID",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "BitsStored",
    "FrameTime",
    "CineRate",
    "RecommendedDisplayFrameRate",
)
# Identifiers (after DICOM PS3.15's basic profile): copied only with keep_phi.
PHI_DICOM_TAGS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "OtherPatientIDs",
    "AccessionNumber",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "StudyDescription",
    "SeriesDescription",
    "InstitutionName",
    "ReferringPhysicianName",
    "OperatorsName",
    "DeviceSerialNumber",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
)


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


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def input_kind(path: Path) -> str | None:
    """The kind of ``path`` ('nifti', 'dicom', 'image', 'video'), or None if the batch skips it."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if suffix in DICOM_SUFFIXES:
        return "dicom"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if not suffix and _has_dicom_preamble(path):
        return "dicom"
    return None


def matches(relative: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True if the POSIX ``relative`` path or its file name matches any glob (``*`` crosses ``/``)."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def discover_inputs(
    root: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    skip_under: Path | None = None,
) -> Discovery:
    """Every supported file under ``root`` (recursive, hidden entries skipped), sorted by path.

    A file is kept when it matches an ``include`` glob (all files when there is none) and no
    ``exclude`` glob. ``skip_under`` (the output folder, when it lies inside ``root``) is never
    entered, so a second run does not read the first run's images.
    """
    root = Path(root)
    if not root.is_dir():
        raise EchoSRError(f"input folder not found: {root}")
    skip = Path(skip_under).resolve() if skip_under else None
    files, unsupported, filtered = [], 0, 0
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
            if (include and not matches(relative, include)) or matches(relative, exclude):
                filtered += 1
                continue
            files.append(InputFile(path, relative, kind))
    files.sort(key=lambda f: f.relative)
    return Discovery(tuple(files), unsupported, filtered)


# ---------------------------------------------------------------- reading


def read_input(inp: InputFile, keep_phi: bool = False) -> tuple[Iterator[np.ndarray], dict]:
    """The frames of ``inp`` (each H×W uint8 or H×W×3 BGR uint8) and its metadata.

    Still images, NIfTI and DICOM are read at once, so a damaged file fails here; a video is
    decoded as it is iterated. Raises DataError/SourceError naming the file.
    """
    if inp.kind == "nifti":
        from echosr_edge.data.nifti import read_nifti

        frames, spacing = read_nifti(inp.path)
        return iter(frames), {"frames": len(frames), "spacing_mm": list(spacing)}
    if inp.kind == "dicom":
        frames, info = read_dicom_frames(inp.path, keep_phi)
        return iter(frames), {"frames": len(frames), "dicom": info}
    if inp.kind == "image":
        return iter([read_image(inp.path)]), {"frames": 1}
    if inp.kind == "video":
        return (frame for _, _, frame in VideoFileSource(inp.path).frames()), {}
    raise DataError(inp.path, f"unknown input kind {inp.kind!r}")


def read_image(path: Path) -> np.ndarray:
    """A still image as H×W or H×W×3/4 uint8 (16-bit images are scaled down)."""
    from echosr_edge.data.image_header import read_image_header

    read_image_header(path)  # refuses a size that OpenCV would allocate before decoding
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataError(path, "not a readable image (damaged or not really PNG/JPEG/BMP/TIFF)")
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = _scale_to_uint8(image.astype(np.float64), path)
    if min(image.shape[:2]) < MIN_SIDE:
        raise DataError(path, f"image too small: {image.shape[0]}x{image.shape[1]}")
    return image


def read_dicom_frames(path: Path, keep_phi: bool = False) -> tuple[np.ndarray, dict]:
    """T×H×W uint8 frames of a DICOM file and its metadata, identifiers removed unless ``keep_phi``.

    The batch reads the tags itself (not through ``echosr_edge.data.dicom``, whose record never
    carries identifiers) because ``--keep-phi`` must be able to copy them.
    """
    import_optional("pydicom", "dicom")
    return _read_dicom_minimal(path, keep_phi)


def filter_dicom_info(info: dict, keep_phi: bool) -> dict:
    """Keep only non-identifying keys of ``info`` unless ``keep_phi`` (keys compared loosely)."""
    allowed = {k.lower() for k in SAFE_DICOM_TAGS + (PHI_DICOM_TAGS if keep_phi else ())}
    if keep_phi:
        return {k: _json_value(v) for k, v in info.items()}
    return {k: _json_value(v) for k, v in info.items() if k.replace("_", "").lower() in allowed}


def _json_value(value):
    """A DICOM (or numpy) value as plain JSON data."""
    kind = type(value).__name__
    if kind == "IS":  # pydicom's integer string
        return int(value)
    if kind.startswith("DS"):  # pydicom's decimal string
        return float(value)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)) or kind == "MultiValue":
        return [_json_value(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _redact(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) > 2:
            message = message.replace(secret, "[redacted]")
    return message


def _read_dicom_minimal(path: Path, keep_phi: bool) -> tuple[np.ndarray, dict]:
    pydicom = import_optional("pydicom", "dicom")
    from echosr_edge.data.capped_file import CappedFile
    from echosr_edge.data.dicom_pixels import decode_frames

    try:
        with CappedFile(path) as fh:  # a damaged length field must not allocate beyond the file
            ds = pydicom.dcmread(fh, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises InvalidDicomError, EOFError, ValueError...
        raise DataError(path, f"not a readable DICOM file ({type(exc).__name__}: {str(exc)[:200]})") from exc
    try:
        secrets = [str(ds.get(tag, "") or "") for tag in PHI_DICOM_TAGS]
    except Exception as exc:  # a damaged identifying element: say which kind, never its bytes
        raise DataError(path, f"unreadable DICOM header value ({type(exc).__name__} in an identifying element)") from exc
    if "Rows" not in ds or "Columns" not in ds:
        raise DataError(path, "the DICOM file holds no image (no Rows/Columns)")
    # The same decoding as the runtime's DICOM source: every transfer syntax the 'dicom' extra
    # covers, colour and palette to luminance, one frame at a time.
    try:
        frames = np.stack(list(decode_frames(path)))
    except DataError as exc:
        problem = _redact(exc.problem, secrets).replace("cannot decode the pixel data", "cannot decode the DICOM pixel data")
        raise DataError(path, problem) from exc
    except ValueError as exc:  # np.stack of no frames
        raise DataError(path, "cannot decode the DICOM pixel data (no frames)") from exc
    if min(frames.shape[1:]) < MIN_SIDE:
        raise DataError(path, f"image too small: {frames.shape[1]}x{frames.shape[2]}")
    try:  # pydicom converts header values on access: a damaged one raises any type
        tags = SAFE_DICOM_TAGS + (PHI_DICOM_TAGS if keep_phi else ())
        info = {tag: _json_value(ds.get(tag)) for tag in tags if tag in ds}
    except Exception as exc:
        problem = _redact(f"{type(exc).__name__}: {str(exc)[:200]}", secrets)
        raise DataError(path, f"unreadable DICOM header value ({problem})") from exc
    return np.ascontiguousarray(frames), info


def _scale_to_uint8(data: np.ndarray, path: Path) -> np.ndarray:
    if not np.isfinite(data).all():
        raise DataError(path, "image holds NaN or infinite values")
    lo, hi = float(data.min()), float(data.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return ((data - lo) * scale).astype(np.uint8)
