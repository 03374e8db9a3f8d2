"""TensorRT engines: run only where tensorrt and an NVIDIA GPU exist; skip with the reason elsewhere."""

import numpy as np
import pytest

from echosr_edge.export.tensorrt_export import TensorRTSettings, build_engine, run_engine, unavailable_reason

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def test_fp16_engine_tracks_fp32_and_fills_the_caches(sr_onnx, tmp_path, calibration_inputs):
    from echosr_edge.export.verify import run_artifact, verify_sr

    settings = TensorRTSettings(cache_dir=tmp_path / "cache")
    info = build_engine(sr_onnx, tmp_path / "sr.fp16.engine", "fp16", settings)
    assert info["engine_cache"] == "miss" and (tmp_path / "cache" / "timing.cache").stat().st_size > 0
    ref, _ = run_artifact(sr_onnx, "onnx", calibration_inputs)
    out, ms = run_engine(tmp_path / "sr.fp16.engine", calibration_inputs)
    assert verify_sr(ref, out)["value"] > 40.0 and ms > 0
    again = build_engine(sr_onnx, tmp_path / "copy.engine", "fp16", settings)
    assert again["engine_cache"] == "hit" and again["engine_key"] == info["engine_key"]


def test_int8_engine_from_the_symmetric_qdq_onnx(sr_onnx, tmp_path, calibration_inputs):
    from echosr_edge.export.graph import onnx_first_last_convs
    from echosr_edge.export.quantize_ort import quantize_int8_qdq
    from echosr_edge.export.verify import run_artifact

    qdq = quantize_int8_qdq(sr_onnx, tmp_path / "q.onnx", calibration_inputs, symmetric=True, nodes_to_exclude=onnx_first_last_convs(sr_onnx))
    build_engine(qdq, tmp_path / "sr.int8.engine", "int8", TensorRTSettings(cache_dir=tmp_path / "cache"))
    ref, _ = run_artifact(sr_onnx, "onnx", calibration_inputs)
    out, _ = run_engine(tmp_path / "sr.int8.engine", calibration_inputs)
    assert out.shape == ref.shape and np.isfinite(out).all()


def test_int8_calibrator_writes_its_cache(sr_onnx, tmp_path, calibration_inputs):
    import tensorrt as trt

    if not hasattr(trt, "IInt8EntropyCalibrator2"):
        pytest.skip(f"TensorRT {trt.__version__} has no implicit INT8 calibration (QDQ only)")
    from echosr_edge.calibration.tensorrt_calibrator import make_tensorrt_calibrator

    cache = tmp_path / "sr.calib"
    calibrator = make_tensorrt_calibrator(calibration_inputs, cache, "entropy")
    build_engine(sr_onnx, tmp_path / "sr.int8.engine", "int8", TensorRTSettings(), calibrator, ("/head/head.0/Conv",))
    assert cache.stat().st_size > 0
    out, _ = run_engine(tmp_path / "sr.int8.engine", calibration_inputs)
    assert np.isfinite(out).all()
