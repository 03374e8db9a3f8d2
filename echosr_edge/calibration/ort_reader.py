"""ONNX Runtime's CalibrationDataReader over an in-memory N×1×H×W array."""

from __future__ import annotations

import numpy as np

from echosr_edge.calibration.sets import check_model_inputs


def make_ort_reader(input_name: str, inputs: np.ndarray, spatial: tuple[int, int] | None = None, source: str = "calibration inputs"):
    """A CalibrationDataReader feeding ``inputs`` (N×1×H×W float32 in [0, 1]) one frame at a time.

    Raises DataError for an empty or wrongly shaped array (H×W checked against ``spatial``).
    """
    from onnxruntime.quantization import CalibrationDataReader

    inputs = check_model_inputs(inputs, spatial, source)

    class ArrayReader(CalibrationDataReader):
        def __init__(self) -> None:
            self._iter = iter(inputs)

        def get_next(self):
            x = next(self._iter, None)
            return None if x is None else {input_name: x[None]}

        def rewind(self) -> None:
            self._iter = iter(inputs)

    return ArrayReader()
