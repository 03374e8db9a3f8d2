"""Pixel conventions shared by the NIfTI and MetaImage readers.

Frames are uint8 (CAMUS stores 8-bit B-mode); spacing is (row, column) in mm, rounded to
6 decimals so that the float32 zooms of a NIfTI file and the decimal text of a MetaImage
header give identical values for the same acquisition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.data.records import MASK_LABELS
from echosr_edge.errors import DataError

SPACING_DECIMALS = 6


def check_grey_numbers(data: np.ndarray, path: Path) -> None:
    """Refuse an empty array, or one whose pixels are not plain numbers (RGB records, complex)."""
    if data.size == 0:
        raise DataError(path, f"image holds no pixels (shape {data.shape})")
    if data.dtype.kind not in "biuf":
        raise DataError(path, f"pixel type {data.dtype} is not a grey-level number type")


def as_uint8(data: np.ndarray, path: Path) -> np.ndarray:
    """Image data → uint8: kept as is when already in [0, 255], else min-max rescaled."""
    check_grey_numbers(data, path)
    if data.dtype == np.uint8:
        return data
    if not np.isfinite(data).all():
        raise DataError(path, "image holds NaN or infinite values")
    if data.size and data.min() >= 0 and data.max() <= 255:
        return data.astype(np.uint8)
    lo, hi = float(data.min()), float(data.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return ((data - lo) * scale).astype(np.uint8)


def as_mask(data: np.ndarray, path: Path) -> np.ndarray:
    """Segmentation data → uint8 labels; refuses values that are not CAMUS labels (0–3)."""
    check_grey_numbers(data, path)
    if data.dtype.kind == "f" and not np.array_equal(data, np.round(data)):
        raise DataError(path, "segmentation mask holds non-integer values")
    values = np.unique(data)
    unknown = [v for v in values.tolist() if int(v) not in MASK_LABELS]
    if unknown:
        raise DataError(path, f"segmentation mask holds labels {unknown[:5]} outside {sorted(MASK_LABELS)}")
    return data.astype(np.uint8)


def row_col_spacing(x_spacing: float, y_spacing: float) -> tuple[float, float]:
    """(row, column) spacing in mm from a file's (x, y) spacing."""
    return (round(float(y_spacing), SPACING_DECIMALS), round(float(x_spacing), SPACING_DECIMALS))
