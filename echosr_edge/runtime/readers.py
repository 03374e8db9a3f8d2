"""The one way to read a file into frames: kinds, still images, NIfTI, MetaImage, DICOM and video.

``open_file(path)`` gives an ``OpenedFile``: its kind, frame count, frame rate, spacing,
metadata and its frames (each H×W uint8 grey or H×W×3 BGR uint8), decoded the same way
whoever asks — ``run --source``, ``batch`` and ``inspect`` all read through it, so a 16-bit
PNG, a DICOM cine or a NIfTI file gives the same frames everywhere.

DICOM metadata holds the safe tags and the identifying ones; ``without_phi`` is the filter
that removes the identifiers (``batch`` keeps them only with ``--keep-phi``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from echosr_edge.errors import DataError, import_optional

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mjpg", ".mjpeg"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
NIFTI_SUFFIXES = (".nii", ".nii.gz")
DICOM_SUFFIXES = {".dcm", ".dicom"}
KINDS = ("nifti", "metaimage", "dicom", "image", "video")
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



@dataclass
class OpenedFile:
    """A file opened for reading: what it is and its frames (call ``frames()``; each call starts over)."""

    path: Path
    kind: str  # one of KINDS
    count: int | None  # frames in the file (a video's container count is approximate)
    fps: float | None
    spacing_mm: tuple[float, float] | None = None
    metadata: dict = field(default_factory=dict)  # DICOM: tags, identifiers included (see without_phi)
    _frames: Callable[[], Iterator[np.ndarray]] | None = field(default=None, repr=False)

    def frames(self) -> Iterator[np.ndarray]:
        """The frames in order, decoded one at a time (H×W uint8 or H×W×3 BGR uint8)."""
        return self._frames()

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (the last one when the file is shorter); DataError when it has none."""
        last = None
        for i, frame in enumerate(self.frames()):
            last = frame
            if i >= index:
                break
        if last is None:
            raise DataError(self.path, "the file has no readable frames")
        return last


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def file_kind(path: Path) -> str | None:
    """The kind of ``path`` (one of KINDS) from its suffix or the DICOM preamble, or None if unread."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(".mhd"):
        return "metaimage"
    if suffix in DICOM_SUFFIXES:
        return "dicom"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if not suffix and _has_dicom_preamble(path):
        return "dicom"
    return None


def open_file(path: Path, kind: str | None = None) -> OpenedFile:
    """Open ``path`` for reading. Still images, NIfTI and MetaImage are decoded here, DICOM's header
    is read here (pixels as frames are asked for), a video is probed; DataError names the file."""
    path = Path(path)
    kind = kind or file_kind(path)
    if kind in ("nifti", "metaimage"):
        if kind == "nifti":
            from echosr_edge.data.nifti import read_nifti as read
        else:
            from echosr_edge.data.metaimage import read_metaimage as read
        stack, spacing = read(path)
        return OpenedFile(path, kind, len(stack), None, tuple(spacing), {}, lambda: iter(stack))
    if kind == "dicom":
        return _open_dicom(path)
    if kind == "image":
        image = read_image(path)
        return OpenedFile(path, kind, 1, None, None, {}, lambda: iter([image]))
    if kind == "video":
        return _open_video(path)
    raise DataError(path, "not a format echosr-edge reads (DICOM, NIfTI, MetaImage .mhd, PNG/JPEG/BMP/TIFF, MP4/AVI/MOV/MKV)")


def _open_video(path: Path) -> OpenedFile:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DataError(path, "not a readable video (unsupported codec or damaged)")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = cap.get(cv2.CAP_PROP_FPS)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    finally:
        cap.release()
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or None
    rate = round(fps, 3) if 0 < fps < 1000 else None

    def frames() -> Iterator[np.ndarray]:
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise DataError(path, "not a readable video (unsupported codec or damaged)")
        read = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                read += 1
                yield frame
        finally:
            cap.release()
        if read == 0:
            raise DataError(path, "the video has no readable frames")

    return OpenedFile(path, "video", max(count, 0) or None, rate, None, {"codec": codec}, frames)


def _open_dicom(path: Path) -> OpenedFile:
    from echosr_edge.data.dicom_pixels import decode_frames

    tags, secrets = read_dicom_tags(path)
    fps = None
    for tag, to_fps in (("CineRate", float), ("RecommendedDisplayFrameRate", float), ("FrameTime", lambda ms: 1000.0 / ms)):
        try:
            value = float(tags.get(tag) or 0)
        except (TypeError, ValueError):
            continue
        if value > 0:
            fps = to_fps(value)
            break

    def frames() -> Iterator[np.ndarray]:
        try:
            yield from decode_frames(path)
        except DataError as exc:
            problem = _redact(exc.problem, secrets).replace("cannot decode the pixel data", "cannot decode the DICOM pixel data")
            raise DataError(path, problem) from exc

    count = int(tags.get("NumberOfFrames") or 1)
    return OpenedFile(path, "dicom", count, fps, None, tags, frames)


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
    """T×H×W uint8 frames of a DICOM file and its tags, identifiers removed unless ``keep_phi``."""
    opened = open_file(path, "dicom")
    try:
        frames = np.stack(list(opened.frames()))
    except ValueError as exc:  # np.stack of no frames
        raise DataError(path, "cannot decode the DICOM pixel data (no frames)") from exc
    if min(frames.shape[1:]) < MIN_SIDE:
        raise DataError(path, f"image too small: {frames.shape[1]}x{frames.shape[2]}")
    return np.ascontiguousarray(frames), without_phi(opened.metadata, keep_phi)


def without_phi(info: dict, keep_phi: bool = False) -> dict:
    """``info`` with the DICOM identifiers removed (all of it with ``keep_phi``; keys compared loosely)."""
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


def read_dicom_tags(path: Path) -> tuple[dict, list[str]]:
    """The safe and identifying tags of a DICOM file as plain JSON values, and the identifying
    strings (to keep them out of error messages). Reads the header only; the tags are read here,
    not through ``echosr_edge.data.dicom`` (whose record never carries identifiers), because
    ``batch --keep-phi`` must be able to copy them."""
    pydicom = import_optional("pydicom", "dicom")
    from echosr_edge.data.capped_file import CappedFile

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
    try:  # pydicom converts header values on access: a damaged one raises any type
        tags = {tag: _json_value(ds.get(tag)) for tag in SAFE_DICOM_TAGS + PHI_DICOM_TAGS if tag in ds}
    except Exception as exc:
        problem = _redact(f"{type(exc).__name__}: {str(exc)[:200]}", secrets)
        raise DataError(path, f"unreadable DICOM header value ({problem})") from exc
    return tags, secrets


def _scale_to_uint8(data: np.ndarray, path: Path) -> np.ndarray:
    if not np.isfinite(data).all():
        raise DataError(path, "image holds NaN or infinite values")
    lo, hi = float(data.min()), float(data.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return ((data - lo) * scale).astype(np.uint8)
