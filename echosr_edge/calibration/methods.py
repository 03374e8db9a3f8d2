"""Calibration methods (MinMax, Entropy, Percentile) and what each quantiser calls them.

One name per method across backends; each backend gets its closest equivalent:

- ONNX Runtime: ``CalibrationMethod.MinMax`` / ``Entropy`` / ``Percentile``.
- NNCF (OpenVINO): activation range estimators ``MINMAX`` / ``HISTOGRAM`` (the range that
  minimises the quantisation error over the histogram, NNCF's counterpart of entropy
  calibration) / ``MEAN_QUANTILE`` (outlier quantiles, the percentile method).
- TensorRT (implicit INT8, TensorRT ≤ 10): ``IInt8MinMaxCalibrator`` /
  ``IInt8EntropyCalibrator2``; percentile has no TensorRT calibrator and is refused.
"""

from __future__ import annotations

from echosr_edge.errors import ConfigError

METHODS: tuple[str, ...] = ("minmax", "entropy", "percentile")


def check_method(method: str) -> str:
    """Return ``method`` if known, else raise ConfigError listing the known ones."""
    if method not in METHODS:
        raise ConfigError(f"unknown calibration method {method!r}; known: {', '.join(METHODS)}")
    return method


def ort_method(method: str):
    """ONNX Runtime's ``CalibrationMethod`` for ``method``."""
    from onnxruntime.quantization import CalibrationMethod

    return {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }[check_method(method)]


def nncf_advanced_parameters(method: str):
    """NNCF ``AdvancedQuantizationParameters`` with the activation range estimator for ``method``."""
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    estimator = {
        "minmax": RangeEstimatorParametersSet.MINMAX,
        "entropy": RangeEstimatorParametersSet.HISTOGRAM,
        "percentile": RangeEstimatorParametersSet.MEAN_QUANTILE,
    }[check_method(method)]
    return AdvancedQuantizationParameters(activations_range_estimator_params=estimator)


def tensorrt_calibrator_base(trt, method: str):
    """The TensorRT calibrator class for ``method``; a clear error where TensorRT has none."""
    names = {"minmax": "IInt8MinMaxCalibrator", "entropy": "IInt8EntropyCalibrator2"}
    if check_method(method) not in names:
        raise ConfigError(f"TensorRT has no {method} calibrator; use --calibration-method entropy or minmax, or the QDQ route")
    base = getattr(trt, names[method], None)
    if base is None:
        raise ConfigError(
            f"TensorRT {trt.__version__} has no {names[method]} (implicit INT8 calibration was removed); "
            "build INT8 engines from the QDQ ONNX instead (--trt-int8 qdq)"
        )
    return base
