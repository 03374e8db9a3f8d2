"""ONNX Runtime static INT8 quantisation (QDQ, per-channel weights), calibrated on real frames."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from echosr_edge.calibration.ort_reader import make_ort_reader

log = logging.getLogger(__name__)


def quantize_int8_qdq(
    fp32_path: Path,
    int8_path: Path,
    calibration_inputs: np.ndarray,
    input_name: str = "input",
    method: str = "minmax",
    per_channel: bool = True,
    nodes_to_exclude: list[str] | None = None,
) -> Path:
    """Write a QDQ INT8 model of ``fp32_path`` calibrated on N×1×H×W float32 inputs."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    if method not in methods:
        raise ValueError(f"unknown calibration method {method!r}; known: {', '.join(methods)}")
    int8_path = Path(int8_path)
    prepped = int8_path.with_name(int8_path.stem + ".prep.onnx")
    quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
    try:
        quantize_static(
            str(prepped),
            str(int8_path),
            make_ort_reader(input_name, calibration_inputs),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            calibrate_method=methods[method],
            nodes_to_exclude=nodes_to_exclude or [],
        )
    finally:
        prepped.unlink(missing_ok=True)
    log.info("quantised %s → %s (%d calibration frames)", fp32_path, int8_path, len(calibration_inputs))
    return int8_path
