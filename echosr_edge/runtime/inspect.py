"""What the readers see in one file: the library behind ``echosr-edge inspect`` (torch-free).

For DICOM, NIfTI, MetaImage, still images and videos: the format, frame count, size, colour
model (and transfer syntax or codec), frame rate, spacing and where it came from, the image
region as a box and where that came from, and — with a bundle that has a quality model — the
quality the runtime would see. ``preview`` draws the region on the pre-processed (grey) frame.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.preprocess import to_grey
from echosr_edge.errors import DataError

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mjpg", ".mjpeg"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Inspection:
    """What a reader sees in a file; boxes are (top, left, bottom, right) in pixels of the frame."""

    path: str
    format: str  # DICOM, NIfTI, MetaImage, image, video
    frames: int
    height: int
    width: int
    colour: str  # DICOM photometric interpretation, or grey / BGR / BGRA
    encoding: str | None  # DICOM transfer syntax, video codec, image suffix
    fps: float | None
    spacing_mm: tuple[float, float] | None  # (row, column)
    spacing_source: str | None
    region: tuple[int, int, int, int] | None
    region_source: str | None
    quality: str | None = None
    quality_probabilities: dict[str, float] | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return asdict(self)


def detect_format(path: Path) -> str:
    """DICOM, NIfTI, MetaImage, image or video, from the suffix or the DICOM preamble."""
    from echosr_edge.data.dicom import is_dicom_file

    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return "NIfTI"
    if name.endswith(".mhd"):
        return "MetaImage"
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    if is_dicom_file(path):
        return "DICOM"
    raise DataError(path, "not a format echosr-edge reads (DICOM, NIfTI, MetaImage .mhd, PNG/JPEG/BMP/TIFF, MP4/AVI/MOV/MKV)")


def _dicom(path: Path, index: int) -> tuple[dict, np.ndarray]:
    from echosr_edge.data.dicom import dicom_info, iter_dicom_frames

    info = dicom_info(path)
    frame = next(iter_dicom_frames(path, indices=[min(index, info.frames - 1)]))
    facts = dict(
        frames=info.frames, height=info.rows, width=info.columns, colour=info.photometric,
        encoding=f"{info.transfer_syntax} ({info.transfer_syntax_uid})", fps=info.fps,
        spacing_mm=info.spacing_mm, spacing_source=info.spacing_source,
        region=info.region, region_source="DICOM SequenceOfUltrasoundRegions" if info.region else None,
    )
    return facts, frame


def _volume(path: Path, fmt: str, index: int) -> tuple[dict, np.ndarray]:
    if fmt == "NIfTI":
        from echosr_edge.data.nifti import read_nifti as read
    else:
        from echosr_edge.data.metaimage import read_metaimage as read
    frames, spacing = read(path)
    facts = dict(
        frames=len(frames), height=frames.shape[1], width=frames.shape[2], colour="grey", encoding=None, fps=None,
        spacing_mm=tuple(spacing), spacing_source=f"{fmt} header", region=None, region_source=None,
    )
    return facts, frames[min(index, len(frames) - 1)]


def _image(path: Path) -> tuple[dict, np.ndarray]:
    from echosr_edge.runtime.batch_inputs import read_image

    image = read_image(path)
    colour = "grey" if image.ndim == 2 else ("BGRA" if image.shape[2] == 4 else "BGR")
    facts = dict(
        frames=1, height=image.shape[0], width=image.shape[1], colour=colour, encoding=path.suffix.lower().lstrip("."),
        fps=None, spacing_mm=None, spacing_source=None, region=None, region_source=None,
    )
    return facts, image


def _video(path: Path, index: int) -> tuple[dict, np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DataError(path, "not a readable video (unsupported codec or damaged)")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = cap.get(cv2.CAP_PROP_FPS)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        if index:
            cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None:
        raise DataError(path, "the video has no readable frames")
    codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or None
    facts = dict(
        frames=max(count, 1), height=frame.shape[0], width=frame.shape[1], colour="BGR" if frame.ndim == 3 else "grey",
        encoding=codec, fps=round(fps, 3) if 0 < fps < 1000 else None, spacing_mm=None, spacing_source=None,
        region=None, region_source=None,
    )
    return facts, frame


def read_for_inspection(path: Path, index: int = 0) -> tuple[str, dict, np.ndarray]:
    """(format, the reader's facts, frame ``index`` as the reader gives it: H×W or H×W×3 BGR uint8)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    fmt = detect_format(path)
    if fmt == "DICOM":
        facts, frame = _dicom(path, index)
    elif fmt in ("NIfTI", "MetaImage"):
        facts, frame = _volume(path, fmt, index)
    elif fmt == "image":
        facts, frame = _image(path)
    else:
        facts, frame = _video(path, index)
    return fmt, facts, frame


def _quality(frame: np.ndarray, bundle: Path, trust) -> tuple[str | None, dict | None, str | None]:
    """(label, probabilities, note) from the bundle's quality model, run as ``run`` would run it."""
    from echosr_edge.runtime.session import open_session

    pipeline = open_session(bundle, "auto", trust=trust, enhance="never", startup_check=False).pipeline
    if pipeline.quality is None:
        return None, None, f"quality: not estimated ({bundle} has no quality model)"
    result = pipeline.process(frame)
    return result.quality, result.quality_probabilities, None


def inspect_file(path: Path, frame_index: int = 0, bundle: Path | None = None, trust=()) -> tuple[Inspection, np.ndarray]:
    """Inspect ``path``: (what the readers see, frame ``frame_index`` as H×W or H×W×3 BGR uint8).

    The region is the DICOM ultrasound region when the file declares one, else what
    ``runtime.region.find_image_region`` detects on that frame. The quality needs ``bundle``
    with a quality model; without one it is left out with a note saying so.
    """
    from echosr_edge.runtime.region import find_image_region

    path = Path(path)
    fmt, facts, frame = read_for_inspection(path, frame_index)
    notes = []
    if facts["region"] is None:
        box = find_image_region(frame)
        if box is not None:
            facts["region"], facts["region_source"] = (box.top, box.left, box.bottom, box.right), "detected"
        else:
            notes.append("region: no textured image region found (blank frame?)")
    quality = probabilities = None
    if bundle is not None:
        quality, probabilities, note = _quality(frame, Path(bundle), trust)
        if note:
            notes.append(note)
    else:
        notes.append("quality: not estimated (give --bundle with a quality model)")
    if fmt == "video":
        notes.append("frames: the container's count (some codecs report it approximately)")
    inspection = Inspection(str(path), fmt, quality=quality, quality_probabilities=probabilities, notes=tuple(notes), **facts)
    return inspection, frame


def preview(frame: np.ndarray, inspection: Inspection) -> np.ndarray:
    """The pre-processed (grey) frame as H×W×3 BGR uint8 with the region drawn in green."""
    picture = cv2.cvtColor(to_grey(frame), cv2.COLOR_GRAY2BGR)
    if inspection.region is not None:
        top, left, bottom, right = inspection.region
        cv2.rectangle(picture, (left, top), (right - 1, bottom - 1), (0, 220, 0), 1)
    return picture
