"""Build DICOM test files in the encodings scanners write, and decode them independently of pydicom.

Shared by tests/data (the decoder), tests/runtime (the source and `run`) and tests/cli (`inspect`).
The reference frames are synthetic sector cines (echosr_edge.data.synth) with a colour overlay,
so an RGB → grey conversion with the wrong weights or the wrong channel order shows.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

# The photometric luma weights that define Y in YBR_FULL (PS3.3 C.7.6.3.1.2) and that grey must use.
LUMA = np.array([0.299, 0.587, 0.114], np.float64)


def sector_cine(frames: int = 3, size: tuple[int, int] = (64, 80), seed: int = 0) -> np.ndarray:
    """T×H×W uint8 synthetic apical sector frames that move from ED towards ES."""
    from echosr_edge.data.synth import patient_anatomy, render, systole_at

    rng = np.random.default_rng(seed)
    anatomy = patient_anatomy(rng)
    return np.stack([render("4CH", systole_at(i, max(frames, 2)), "good", anatomy, rng, size)[0] for i in range(frames)])


def colour_cine(grey: np.ndarray) -> np.ndarray:
    """T×H×W×3 uint8 RGB: the grey cine with a warm tint, an orange depth scale and green text."""
    rgb = np.stack([grey, (grey * 0.85).astype(np.uint8), (grey * 0.6).astype(np.uint8)], axis=-1)
    for frame in rgb:
        cv2.rectangle(frame, (2, 4), (6, frame.shape[0] - 4), (255, 140, 0), -1)
        cv2.putText(frame, "4C", (frame.shape[1] - 22, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 230, 60), 1)
    return np.ascontiguousarray(rgb)


def luma(rgb: np.ndarray) -> np.ndarray:
    """…×3 uint8 RGB → uint8 luma, computed in float and rounded (the reference, not OpenCV's)."""
    return np.clip(np.rint(rgb.astype(np.float64) @ LUMA), 0, 255).astype(np.uint8)


def dataset(frames: np.ndarray, photometric: str, syntax, **tags):
    """An ultrasound multi-frame dataset holding ``frames`` (T×H×W or T×H×W×3) natively, with PHI set."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UltrasoundMultiFrameImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundMultiFrameImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID = "Doe^Jane", "MRN-0042"
    ds.Modality, ds.Manufacturer = "US", "Acme"
    ds.NumberOfFrames = len(frames)
    ds.Rows, ds.Columns = frames.shape[1:3]
    ds.SamplesPerPixel = 3 if frames.ndim == 4 else 1
    if frames.ndim == 4:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * frames.itemsize
    ds.BitsStored = ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.FrameTime = 40.0
    for key, value in tags.items():
        setattr(ds, key, value)
    big_endian = not meta.TransferSyntaxUID.is_little_endian
    ds.PixelData = (frames.astype(frames.dtype.newbyteorder(">")) if big_endian else frames).tobytes()
    if frames.itemsize == 2:
        ds["PixelData"].VR = "OW"
    return ds


def save(ds, path: Path) -> Path:
    syntax = ds.file_meta.TransferSyntaxUID
    ds.save_as(str(path), enforce_file_format=True, little_endian=syntax.is_little_endian, implicit_vr=syntax.is_implicit_VR)
    return Path(path)


def write_native(path: Path, frames: np.ndarray, photometric: str = "MONOCHROME2", syntax=None, **tags) -> Path:
    """Uncompressed, in ``syntax`` (default Explicit VR Little Endian)."""
    from pydicom.uid import ExplicitVRLittleEndian

    return save(dataset(frames, photometric, syntax or ExplicitVRLittleEndian, **tags), path)


def write_compressed(path: Path, frames: np.ndarray, syntax, photometric: str | None = None, **options) -> Path:
    """Compressed by pydicom's own encoders (RLE, JPEG-LS, JPEG 2000); ``options`` go to ``compress``."""
    from pydicom.uid import ExplicitVRLittleEndian

    photometric = photometric or ("RGB" if frames.ndim == 4 else "MONOCHROME2")
    ds = dataset(frames, photometric, ExplicitVRLittleEndian)
    ds.compress(syntax, **options)
    return save(ds, path)


def jpeg_bytes(frame: np.ndarray, subsampling: int, quality: int = 90) -> bytes:
    """One JFIF JPEG from Pillow: RGB is stored as YCbCr (subsampling 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(frame).save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def write_jpeg_baseline(
    path: Path, frames: np.ndarray, subsampling: int = 1, photometric: str | None = None
) -> tuple[Path, list[bytes]]:
    """A JPEG Baseline cine as ultrasound scanners write it: RGB frames as YCbCr JPEGs, YBR_FULL_422."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    jpegs = [jpeg_bytes(f, subsampling) for f in frames]
    photometric = photometric or ("YBR_FULL_422" if frames.ndim == 4 else "MONOCHROME2")
    ds = dataset(frames, photometric, JPEGBaseline8Bit)
    ds.PixelData = encapsulate(jpegs)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return save(ds, path), jpegs


def reference_jpeg_grey(jpegs: list[bytes]) -> np.ndarray:
    """T×H×W uint8: each JPEG decoded by Pillow to RGB, then the float luma — no pydicom involved."""
    from PIL import Image

    return np.stack([luma(np.asarray(Image.open(io.BytesIO(j)).convert("RGB"))) for j in jpegs])


def heat_palette(entries: int = 256, bits: int = 16) -> np.ndarray:
    """entries×3 lookup table (a black → red → yellow → white 'hot' ramp) of ``bits``-bit values."""
    x = np.linspace(0.0, 1.0, entries)
    table = np.stack([np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1), np.clip(3 * x - 2, 0, 1)], axis=1)
    # 16-bit values are not multiples of 257, so their two bytes differ and a byte-order slip shows.
    top = 65000 if bits > 8 else 255
    return np.rint(table * top).astype(np.uint16 if bits > 8 else np.uint8)


def write_palette(path: Path, index: np.ndarray, table: np.ndarray, syntax=None, declared_bits: int | None = None) -> Path:
    """PALETTE COLOR frames (T×H×W uint8 indices) with ``table`` (N×3) as the Red/Green/Blue LUTs.

    LUT data are 16-bit words (OW); ``declared_bits`` is the descriptor's third value (default:
    16 for a 16-bit table, 8 for an 8-bit one, whose entries are then stored in 16-bit words).
    """
    from pydicom.uid import ExplicitVRLittleEndian

    syntax = syntax or ExplicitVRLittleEndian
    ds = dataset(index, "PALETTE COLOR", syntax)
    bits = declared_bits or (16 if table.dtype == np.uint16 else 8)
    words = table.astype(np.uint16)
    order = "<u2" if syntax.is_little_endian else ">u2"
    for channel, colour in enumerate(("Red", "Green", "Blue")):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [len(table) % 65536, 0, bits])
        setattr(ds, f"{colour}PaletteColorLookupTableData", words[:, channel].astype(order).tobytes())
        ds[f"{colour}PaletteColorLookupTableData"].VR = "OW"
        ds[f"{colour}PaletteColorLookupTableDescriptor"].VR = "US"
    return save(ds, path)


def reference_palette_grey(index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Palette indices → RGB by plain indexing, scaled to 8 bits, then the float luma."""
    rgb = table[index].astype(np.float64)
    if table.dtype == np.uint16:
        rgb = rgb / 257.0
    return luma(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))


def ultrasound_region(top: int, left: int, bottom: int, right: int, cm_per_pixel: tuple[float, float]):
    """A SequenceOfUltrasoundRegions item: a 2D tissue region [top, bottom) × [left, right) in cm units."""
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
    item.RegionLocationMinX0, item.RegionLocationMinY0 = left, top
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = right - 1, bottom - 1
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = 3, 3
    item.PhysicalDeltaX, item.PhysicalDeltaY = cm_per_pixel[1], cm_per_pixel[0]
    return item

