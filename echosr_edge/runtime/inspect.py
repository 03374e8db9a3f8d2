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
from echosr_edge.runtime.readers import OpenedFile, file_kind, open_file

log = logging.getLogger(__name__)

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


FORMATS = {"dicom": "DICOM", "nifti": "NIfTI", "metaimage": "MetaImage", "image": "image", "video": "video"}


def detect_format(path: Path) -> str:
    """DICOM, NIfTI, MetaImage, image or video, from the suffix or the DICOM preamble."""
    kind = file_kind(path)
    if kind is None:
        raise DataError(path, "not a format echosr-edge reads (DICOM, NIfTI, MetaImage .mhd, PNG/JPEG/BMP/TIFF, MP4/AVI/MOV/MKV)")
    return FORMATS[kind]


def _facts(opened: OpenedFile, frame: np.ndarray) -> dict:
    """The reader's facts for a non-DICOM file (DICOM adds its header's, see ``_dicom_facts``)."""
    colour = "grey" if frame.ndim == 2 else ("BGRA" if frame.shape[2] == 4 else "BGR")
    encoding = {"image": opened.path.suffix.lower().lstrip("."), "video": opened.metadata.get("codec")}.get(opened.kind)
    return dict(
        frames=max(opened.count or 1, 1), height=frame.shape[0], width=frame.shape[1], colour=colour, encoding=encoding,
        fps=opened.fps, spacing_mm=opened.spacing_mm,
        spacing_source=f"{FORMATS[opened.kind]} header" if opened.spacing_mm is not None else None,
        region=None, region_source=None,
    )


def _dicom_facts(path: Path) -> dict:
    from echosr_edge.data.dicom import dicom_info

    info = dicom_info(path)
    return dict(
        frames=info.frames, height=info.rows, width=info.columns, colour=info.photometric,
        encoding=f"{info.transfer_syntax} ({info.transfer_syntax_uid})", fps=info.fps,
        spacing_mm=info.spacing_mm, spacing_source=info.spacing_source,
        region=info.region, region_source="DICOM SequenceOfUltrasoundRegions" if info.region else None,
    )


def read_for_inspection(path: Path, index: int = 0) -> tuple[str, dict, np.ndarray]:
    """(format, the reader's facts, frame ``index`` as the reader gives it: H×W or H×W×3 BGR uint8)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    fmt = detect_format(path)
    opened = open_file(path)  # the reader run and batch use: the frames are the ones they see
    frame = opened.frame(index)
    facts = _dicom_facts(path) if opened.kind == "dicom" else _facts(opened, frame)
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
