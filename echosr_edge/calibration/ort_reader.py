"""ONNX Runtime's CalibrationDataReader over an in-memory N×1×H×W array."""

from __future__ import annotations

import numpy as np


def make_ort_reader(input_name: str, inputs: np.ndarray):
    """A CalibrationDataReader feeding ``inputs`` (N×1×H×W float32) one frame at a time."""
    from onnxruntime.quantization import CalibrationDataReader

    if inputs.ndim != 4 or inputs.shape[1] != 1 or len(inputs) == 0:
        raise ValueError(f"calibration inputs must be N×1×H×W with N ≥ 1, got shape {inputs.shape}")

    class ArrayReader(CalibrationDataReader):
        def __init__(self) -> None:
            self._iter = iter(inputs)

        def get_next(self):
            x = next(self._iter, None)
            return None if x is None else {input_name: x[None].astype(np.float32)}

        def rewind(self) -> None:
            self._iter = iter(inputs)

    return ArrayReader()
