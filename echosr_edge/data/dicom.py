"""DICOM frames and multi-frame cines as H×W uint8 grey, with only non-identifying facts (torch-free).

Needs the ``dicom`` extra (pydicom 3 and its pixel-data plugins; which transfer syntaxes and
colour models are decoded, and how, is in ``data.dicom_pixels``). Frames come out as an
ultrasound operator sees them: MONOCHROME1 is inverted, colour (RGB, YBR, palette) becomes
luminance, more than 8 bits are scaled by the stored bit depth.

The image region and the physical spacing come from ``SequenceOfUltrasoundRegions`` when the
file has one (the region a scanner says holds the 2D image, with its PhysicalDeltaX/Y in cm);
otherwise the spacing comes from PixelSpacing. ``DicomInfo.spacing_source`` says which.

``DicomInfo`` deliberately holds no patient, study, institution or UID field: it can be logged
and written to reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from echosr_edge.data.capped_file import CappedFile
from echosr_edge.data.dicom_pixels import check_decodable, decode_frames
from echosr_edge.errors import DataError, import_optional

DICOM_SUFFIXES = {".dcm", ".dicom"}
CM_UNITS = 3  # PhysicalUnitsX/YDirection: 3 = cm (PS3.3 C.8.5.5.1.15)
SPATIAL_2D = 1  # RegionSpatialFormat: 1 = 2D (tissue or flow)
TISSUE = 1  # RegionDataType: 1 = tissue


@dataclass(frozen=True)
class DicomInfo:
    """What a DICOM file holds, without anything that identifies a patient or a place.

    ``region`` is the 2D image region a scanner declared in SequenceOfUltrasoundRegions, as
    rows [top, bottom) and columns [left, right); ``spacing_source`` names where ``spacing_mm``
    came from: "ultrasound region", "PixelSpacing" or None.
    """

    frames: int
    rows: int
    columns: int
    photometric: str
    transfer_syntax: str
    transfer_syntax_uid: str
    bits_stored: int
    fps: float | None
    spacing_mm: tuple[float, float] | None  # (row, column)
    spacing_source: str | None
    region: tuple[int, int, int, int] | None  # (top, left, bottom, right)
    modality: str | None
    manufacturer: str | None
    model: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def is_dicom_file(path: Path) -> bool:
    """True for a .dcm/.dicom file or any file with the DICOM preamble ('DICM' at byte 128)."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False


def _read_header(path: Path):
    pydicom = import_optional("pydicom", "dicom")
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        with CappedFile(path) as fh:  # a damaged length field must not allocate beyond the file
            ds = pydicom.dcmread(fh, stop_before_pixels=True)
    except Exception as exc:  # InvalidDicomError, truncated files, bad VRs
        raise DataError(path, f"not a readable DICOM file ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if "Rows" not in ds or "Columns" not in ds:
        raise DataError(path, "the DICOM file holds no image (no Rows/Columns)")
    return ds


def _fps(ds) -> float | None:
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        value = ds.get(keyword)
        if value:
            return float(value)
    frame_time = ds.get("FrameTime")  # milliseconds between frames
    if frame_time:
        return 1000.0 / float(frame_time)
    return None


def _image_region(ds):
    """The ultrasound region holding the 2D image: 2D tissue first, then any 2D, the largest of them."""
    regions = [r for r in ds.get("SequenceOfUltrasoundRegions", []) if "RegionLocationMinX0" in r and "RegionLocationMaxY1" in r]
    if not regions:
        return None

    def rank(region) -> tuple[bool, bool, int]:
        area = (int(region.RegionLocationMaxX1) - int(region.RegionLocationMinX0)) * (
            int(region.RegionLocationMaxY1) - int(region.RegionLocationMinY0)
        )
        spatial = region.get("RegionSpatialFormat") == SPATIAL_2D
        return spatial, spatial and region.get("RegionDataType") == TISSUE, area

    return max(regions, key=rank)


def _region_box(region, rows: int, columns: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of a region (its Max X1/Y1 are inclusive), clipped to the image."""
    top, left = max(0, int(region.RegionLocationMinY0)), max(0, int(region.RegionLocationMinX0))
    bottom, right = min(rows, int(region.RegionLocationMaxY1) + 1), min(columns, int(region.RegionLocationMaxX1) + 1)
    return (top, left, bottom, right) if bottom > top and right > left else None


def _region_spacing(region) -> tuple[float, float] | None:
    """(row, column) mm per pixel of a region whose physical units are cm in both directions."""
    if region.get("PhysicalUnitsXDirection") != CM_UNITS or region.get("PhysicalUnitsYDirection") != CM_UNITS:
        return None
    dx, dy = region.get("PhysicalDeltaX"), region.get("PhysicalDeltaY")
    if not dx or not dy:
        return None
    return abs(float(dy)) * 10.0, abs(float(dx)) * 10.0


def _spacing(ds, region) -> tuple[tuple[float, float] | None, str | None]:
    if region is not None:
        spacing = _region_spacing(region)
        if spacing is not None:
            return spacing, "ultrasound region"
    if ds.get("PixelSpacing"):
        row, col = ds.PixelSpacing[:2]
        return (float(row), float(col)), "PixelSpacing"
    return None, None


def _info(path: Path, ds) -> DicomInfo:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    rows, columns = int(ds.Rows), int(ds.Columns)
    region = _image_region(ds)
    spacing, source = _spacing(ds, region)
    return DicomInfo(
        frames=int(ds.get("NumberOfFrames", 1) or 1),
        rows=rows,
        columns=columns,
        photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip(),
        transfer_syntax=syntax.name if syntax else "unknown",
        transfer_syntax_uid=str(syntax) if syntax else "",
        bits_stored=int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8),
        fps=_fps(ds),
        spacing_mm=spacing,
        spacing_source=source,
        region=_region_box(region, rows, columns) if region is not None else None,
        modality=ds.get("Modality") or None,
        manufacturer=ds.get("Manufacturer") or None,
        model=ds.get("ManufacturerModelName") or None,
    )


def dicom_info(path: Path) -> DicomInfo:
    """The non-identifying facts of a DICOM file, read from its header only."""
    ds = _read_header(path)
    try:
        return _info(Path(path), ds)
    except Exception as exc:  # pydicom converts values on access: a damaged value raises any type
        raise DataError(path, f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc


def ensure_decodable(path: Path) -> str:
    """The decoder plugin(s) for this file's pixel data ("native" if uncompressed); DataError naming what to install."""
    path = Path(path)
    header = _read_header(path)
    syntax = getattr(header, "file_meta", {}).get("TransferSyntaxUID")
    if not syntax:
        raise DataError(path, "the DICOM file has no transfer syntax (not a DICOM Part 10 file)")
    return check_decodable(path, syntax, int(header.get("BitsStored", 8) or 8))


def iter_dicom_frames(path: Path, indices: Iterable[int] | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of a DICOM file (all, or ``indices``) one at a time as H×W uint8 grey."""
    path = Path(path)
    _read_header(path)
    yield from decode_frames(path, indices)


def read_dicom(path: Path) -> tuple[np.ndarray, DicomInfo]:
    """Read a DICOM frame or cine as T×H×W uint8 (T=1 for a single frame) and its DicomInfo."""
    path = Path(path)
    info = dicom_info(path)
    frames = list(iter_dicom_frames(path))
    if not frames:
        raise DataError(path, "the DICOM file holds no frames")
    return np.stack(frames), info
