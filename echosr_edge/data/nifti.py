"""NIfTI frames and cines as CAMUS stores them.

CAMUS (2023 release) stores an image with the first array axis along the image columns (x)
and the second along the rows (y), so ``nibabel`` returns a W×H array. The product's one
orientation is H×W with the probe apex at the top (row 0): readers transpose on load and
writers transpose on save. Pixel spacing comes from the header's zooms, (row, column) in mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.errors import DataError


def _to_uint8(data: np.ndarray, path: Path) -> np.ndarray:
    if data.dtype == np.uint8:
        return data
    if not np.isfinite(data).all():
        raise DataError(path, "image holds NaN or infinite values")
    if data.size and data.min() >= 0 and data.max() <= 255:
        return data.astype(np.uint8)
    lo, hi = float(data.min()), float(data.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return ((data - lo) * scale).astype(np.uint8)


def read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float]]:
    """Read a NIfTI file as T×H×W uint8 (T=1 for a single frame) and (row, col) spacing in mm."""
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
        zooms = img.header.get_zooms()
    except Exception as exc:  # nibabel raises many types for damaged files
        raise DataError(path, f"not a readable NIfTI file ({type(exc).__name__}: {exc})") from exc
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 4 and data.shape[2] == 1:
        data = data[:, :, 0, :]
    if data.ndim != 3:
        raise DataError(path, f"expected a 2-D frame or a 2-D+time cine, got shape {data.shape}")
    if min(data.shape[:2]) < 8:
        raise DataError(path, f"image too small: {data.shape[0]}x{data.shape[1]}")
    frames = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))  # (x, y, t) -> (t, y, x)
    spacing = (float(zooms[1]), float(zooms[0])) if len(zooms) >= 2 else (1.0, 1.0)
    return _to_uint8(frames, path), spacing


def write_nifti(path: Path, frames: np.ndarray, spacing: tuple[float, float]) -> None:
    """Write H×W or T×H×W uint8 frames in CAMUS's NIfTI layout (the inverse of read_nifti)."""
    import nibabel as nib

    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 2:
        data = frames.T  # (y, x) -> (x, y)
        zooms = (spacing[1], spacing[0])
    else:
        data = np.transpose(frames, (2, 1, 0))  # (t, y, x) -> (x, y, t)
        zooms = (spacing[1], spacing[0], 1.0)
    affine = np.diag([spacing[1], spacing[0], 1.0, 1.0])
    img = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    img.header.set_zooms(zooms)
    nib.save(img, str(path))
