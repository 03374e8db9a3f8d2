"""DICOM frames and multi-frame cines as H×W uint8 grey, with only non-identifying facts (torch-free).

Needs the ``dicom`` extra (pydicom; Pillow for the JPEG Baseline cines ultrasound scanners
often write). Frames come out as an ultrasound operator sees them: MONOCHROME1 is inverted,
colour (RGB, YBR, palette) becomes luminance, more than 8 bits are scaled by the stored bit
depth (the same scale for every frame, so a cine does not flicker).

``DicomInfo`` deliberately holds no patient, study, institution or UID field: it can be logged
and written to reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from echosr_edge.data.capped_file import CappedFile
from echosr_edge.errors import DataError, import_optional

DICOM_SUFFIXES = {".dcm", ".dicom"}


@dataclass(frozen=True)
class DicomInfo:
    """What a DICOM file holds, without anything that identifies a patient or a place."""

    frames: int
    rows: int
    columns: int
    photometric: str
    transfer_syntax: str
    bits_stored: int
    fps: float | None
    spacing_mm: tuple[float, float] | None  # (row, column)
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
        raise DataError(path, f"not a readable DICOM file ({type(exc).__name__}: {exc})") from exc
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


def _spacing(ds) -> tuple[float, float] | None:
    if ds.get("PixelSpacing"):
        row, col = ds.PixelSpacing[:2]
        return float(row), float(col)
    for region in ds.get("SequenceOfUltrasoundRegions", []):
        # Physical units 3 = cm; ultrasound regions give the spacing of the B-mode region in cm.
        if region.get("PhysicalUnitsXDirection") == 3 and region.get("PhysicalDeltaY"):
            return abs(float(region.PhysicalDeltaY)) * 10.0, abs(float(region.PhysicalDeltaX)) * 10.0
    return None


def _info(path: Path, ds) -> DicomInfo:
    meta = getattr(ds, "file_meta", None)
    syntax = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    return DicomInfo(
        frames=int(ds.get("NumberOfFrames", 1) or 1),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        photometric=str(ds.get("PhotometricInterpretation", "MONOCHROME2")),
        transfer_syntax=syntax.name if syntax is not None else "unknown",
        bits_stored=int(ds.get("BitsStored", ds.get("BitsAllocated", 8))),
        fps=_fps(ds),
        spacing_mm=_spacing(ds),
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


def to_grey_u8(frame: np.ndarray, photometric: str, bits_stored: int, signed: bool) -> np.ndarray:
    """One decoded frame (H×W, or H×W×3 RGB) → H×W uint8 grey as displayed."""
    if frame.ndim == 3:
        if frame.dtype != np.uint8:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if frame.dtype != np.uint8 or bits_stored > 8:
        values = frame.astype(np.float32)
        if signed:
            values += float(2 ** (bits_stored - 1))
        frame = np.clip(values * (255.0 / (2**bits_stored - 1)) + 0.5, 0, 255).astype(np.uint8)
    if photometric == "MONOCHROME1":
        frame = 255 - frame
    return frame


def iter_dicom_frames(path: Path) -> Iterator[np.ndarray]:
    """Yield the frames of a DICOM file one at a time (H×W uint8), decoding only one at once."""
    path = Path(path)
    header = _read_header(path)
    pixels = import_optional("pydicom.pixels", "dicom")
    pydicom = import_optional("pydicom", "dicom")
    try:  # pydicom converts values on access: a damaged value raises any type
        photometric = str(header.get("PhotometricInterpretation", "MONOCHROME2")).strip()
        bits = int(header.get("BitsStored", header.get("BitsAllocated", 8)))
        signed = int(header.get("PixelRepresentation", 0)) == 1
    except Exception as exc:
        raise DataError(path, f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc
    palette = photometric == "PALETTE COLOR"
    lut_source = pydicom.Dataset() if palette else None
    try:
        with CappedFile(path) as fh:  # a damaged length field must not allocate beyond the file
            for frame in pixels.iter_pixels(fh, ds_out=lut_source):
                if palette:
                    frame = pixels.apply_color_lut(frame, lut_source)
                    frame = (frame >> 8).astype(np.uint8) if frame.dtype != np.uint8 else frame
                yield to_grey_u8(frame, photometric, bits, signed)
    except DataError:
        raise
    except Exception as exc:  # missing decoders, truncated pixel data, unsupported encodings
        detail = f"{type(exc).__name__}: {exc}"
        hint = ""
        if "plugin" in detail.lower() or "decod" in detail.lower():
            hint = " (compressed DICOM needs a decoder: pip install pillow pylibjpeg)"
        raise DataError(path, f"cannot decode the pixel data{hint} ({detail})") from exc


def read_dicom(path: Path) -> tuple[np.ndarray, DicomInfo]:
    """Read a DICOM frame or cine as T×H×W uint8 (T=1 for a single frame) and its DicomInfo."""
    path = Path(path)
    info = dicom_info(path)
    frames = list(iter_dicom_frames(path))
    if not frames:
        raise DataError(path, "the DICOM file holds no frames")
    return np.stack(frames), info
