"""A synthetic clinic folder for trying, testing and benchmarking the batch.

Mixed kinds in a small tree (NIfTI cines, PNG and JPEG stills, DICOM single- and multi-frame
when pydicom is installed, mp4 and avi clips), some of them deliberately damaged. Cines blend
the synthetic end-diastolic and end-systolic renderings (ED → ES → ED), so a phase model sees
a cycle. DICOM files carry a planted patient identity, for privacy checks.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.nifti import write_nifti
from echosr_edge.data.synth import patient_anatomy, render_frame

KIND_CYCLE = ("nifti", "png", "dicom-multi", "jpg", "mp4", "dicom-single", "avi")
PLANTED_PHI = {"PatientName": "Planted^Janedoe", "PatientID": "PID-90210-XYZ", "PatientBirthDate": "19610704"}


@dataclass(frozen=True)
class SynthFile:
    """A file the generator wrote: its path under the folder, its kind, whether it is damaged."""

    relative: str
    kind: str
    corrupt: bool


def synth_cine(rng: np.random.Generator, frames: int, size: tuple[int, int], view: str = "4CH", quality: str = "medium") -> np.ndarray:
    """T×H×W uint8: ED → ES → ED by blending two renderings of one synthetic patient."""
    anatomy = patient_anatomy(rng)
    ed = render_frame(view, "ED", quality, anatomy, rng, size).astype(np.float32)
    es = render_frame(view, "ES", quality, anatomy, rng, size).astype(np.float32)
    t = np.linspace(0.0, 2.0 * np.pi, frames, endpoint=False)
    weights = (1.0 - np.cos(t)) / 2.0  # 0 at ED, 1 at ES half-way
    return np.stack([((1 - w) * ed + w * es).round().astype(np.uint8) for w in weights])


def write_dicom(path: Path, frames: np.ndarray, phi: dict[str, str] | None = None, truncate: bool = False) -> Path:
    """Write T×H×W uint8 frames as an uncompressed ultrasound DICOM (multi-frame when T > 1)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    multi = len(frames) > 1
    sop_class = "1.2.840.10008.5.1.4.1.1.3.1" if multi else "1.2.840.10008.5.1.4.1.1.6.1"
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "US"
    ds.Manufacturer = "echosr-edge synthetic"
    for tag, value in (phi or PLANTED_PHI).items():
        setattr(ds, tag, value)
    ds.Rows, ds.Columns = int(frames.shape[1]), int(frames.shape[2])
    if multi:
        ds.NumberOfFrames = len(frames)
        ds.FrameTime = 20.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    data = np.ascontiguousarray(frames if multi else frames[0], dtype=np.uint8).tobytes()
    ds.PixelData = data[: len(data) // 3] if truncate else data
    ds.save_as(str(path), enforce_file_format=True)
    return path


def write_video(path: Path, frames: np.ndarray, fourcc: str, fps: float = 25.0) -> Path:
    """Write T×H×W uint8 frames as a colour video OpenCV can read back."""
    h, w = frames.shape[1:]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return path


def _damage(path: Path) -> None:
    """Break a file as a failed copy would: a truncated NIfTI, an image with a junk header, a
    video overwritten with noise (FFmpeg recovers from a damaged header, so noise it is)."""
    data = path.read_bytes()
    if path.name.endswith(".nii.gz"):
        path.write_bytes(data[: len(data) // 3])
    elif path.suffix in (".mp4", ".avi"):
        path.write_bytes(np.random.default_rng(len(data)).integers(0, 256, len(data), dtype=np.uint8).tobytes())
    else:
        path.write_bytes(b"\x00junk\xff" * 12 + data[72:])


def write_clinic_folder(
    out: Path,
    files: int = 20,
    corrupt: int = 0,
    seed: int = 0,
    size: tuple[int, int] = (112, 96),
    cine_frames: int = 6,
    kinds: tuple[str, ...] = KIND_CYCLE,
) -> list[SynthFile]:
    """Write ``files`` scans under ``out`` (three day-folders), ``corrupt`` of them damaged.

    DICOM kinds are replaced by NIfTI when pydicom is not installed. Damaged files are spread
    evenly over the list; returns what was written, in path order.
    """
    out = Path(out)
    if importlib.util.find_spec("pydicom") is None:
        kinds = tuple("nifti" if k.startswith("dicom") else k for k in kinds)
    bad = set(np.linspace(0, files - 1, corrupt, dtype=int).tolist()) if corrupt else set()
    written = []
    for index in range(files):
        rng = np.random.default_rng([seed, index])
        kind = kinds[index % len(kinds)]
        view = ("2CH", "4CH")[index % 2]
        quality = ("good", "medium", "poor")[index % 3]
        folder = out / f"day{index % 3 + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"scan{index:04d}"
        still = kind in ("png", "jpg", "dicom-single")
        cine = synth_cine(rng, 1 if still else cine_frames, size, view, quality)
        if kind == "nifti":
            path = folder / f"{stem}.nii.gz"
            write_nifti(path, cine, (0.3, 0.3))
        elif kind in ("png", "jpg"):
            path = folder / f"{stem}.{kind}"
            cv2.imwrite(str(path), cine[0])
        elif kind.startswith("dicom"):
            path = folder / f"{stem}.dcm"
            write_dicom(path, cine, truncate=index in bad)
        elif kind in ("mp4", "avi"):
            path = folder / f"{stem}.{kind}"
            write_video(path, cine, "mp4v" if kind == "mp4" else "MJPG")
        else:
            raise ValueError(f"unknown kind {kind!r}")
        if index in bad and not kind.startswith("dicom"):
            _damage(path)
        written.append(SynthFile(path.relative_to(out).as_posix(), kind, index in bad))
    return sorted(written, key=lambda f: f.relative)
