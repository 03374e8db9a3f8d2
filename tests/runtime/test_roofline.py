"""The roofline: ceiling models written as ONNX bytes, each stage against its engine alone and the ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from echosr_edge.runtime.onnx_bytes import conv_chain, conv_chain_macs
from echosr_edge.runtime.pipeline import Classifier, Pipeline
from echosr_edge.runtime.roofline import Ceiling, measure_ceiling, stage_limits
from tests.runtime.test_pipeline import FakeEngine, brightness_classifier, upsample4


def _conv3x3(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """1×C×H×W input, O×C×3×3 weights, padding 1: the reference convolution."""
    padded = np.pad(x[0], ((0, 0), (1, 1), (1, 1)))
    h, w_ = x.shape[2:]
    out = np.zeros((w.shape[0], h, w_), dtype=np.float64)
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("oc,chw->ohw", w[:, :, dy, dx], padded[:, dy:dy + h, dx:dx + w_])
    return out[None].astype(np.float32)


def _session(model: bytes):
    ort = pytest.importorskip("onnxruntime", reason="the ceiling runs through ONNX Runtime")
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def test_fp32_conv_chain_bytes_compute_the_convolutions_they_describe():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 4, 3, 3)).astype(np.float32) * 0.05 for _ in range(2)]
    x = np.random.default_rng(1).random((1, 4, 6, 6), dtype=np.float32)
    y = _session(conv_chain(channels=4, size=6, layers=2, seed=0)).run(None, {"x": x})[0]
    np.testing.assert_allclose(y, _conv3x3(_conv3x3(x, weights[0]), weights[1]), atol=1e-5)


def test_int8_conv_chain_runs_and_stays_near_its_fp32_twin():
    x = np.random.default_rng(1).random((1, 8, 8, 8), dtype=np.float32)
    fp32 = _session(conv_chain(channels=8, size=8, layers=1)).run(None, {"x": x})[0]
    int8 = _session(conv_chain(channels=8, size=8, layers=1, int8=True)).run(None, {"x": x})[0]
    assert int8.shape == fp32.shape
    assert np.abs(int8 - fp32).max() < 0.2  # activation step 0.05, weight step 0.002


def test_conv_chain_macs_count_every_multiply_accumulate():
    assert conv_chain_macs(channels=64, size=32, layers=3) == 3 * 64 * 64 * 9 * 32 * 32


def test_onnxruntime_ceiling_is_measured_in_gmacs():
    pytest.importorskip("onnxruntime", reason="the ceiling runs through ONNX Runtime")
    ceiling = measure_ceiling("onnx", "fp32", 1, {}, runs=2)
    assert ceiling.gmacs is not None and ceiling.gmacs > 0.1
    assert "3×3 conv" in ceiling.workload


def test_openvino_ceiling_goes_through_the_openvino_adapter(tmp_path, monkeypatch):
    pytest.importorskip("openvino", reason="the OpenVINO ceiling needs the 'openvino' extra")
    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(tmp_path))
    ceiling = measure_ceiling("openvino", "int8", 1, {"performance_hint": "LATENCY"}, runs=2)
    assert ceiling.gmacs is not None and ceiling.gmacs > 0.1


def test_a_backend_without_a_ceiling_model_says_so():
    ceiling = measure_ceiling("tensorrt", "int8", 1, {})
    assert ceiling.gmacs is None and "tensorrt" in ceiling.note


def test_stage_limits_set_each_stage_against_its_engine_alone_and_the_ceiling():
    sr = FakeEngine(upsample4)
    view = FakeEngine(brightness_classifier)
    pipeline = Pipeline(16, 4, sr, [Classifier("view", view, ("a", "b"), 16)])
    pipeline.engines = {"sr": sr, "view_model": view}
    macs = {"sr": {"total": 2_000_000}, "view_model": {"total": 1_000_000}}
    limits = {s.stage: s for s in stage_limits(pipeline, {"sr": 1.0, "classify_view": 2.0}, macs, Ceiling(4.0, "x"), runs=3)}
    assert set(limits) == {"sr", "classify_view"}
    assert limits["classify_view"].model == "view_model"
    assert limits["sr"].gmacs == pytest.approx(2.0)  # 2 MMAC in 1 ms
    assert limits["sr"].pct_of_ceiling == pytest.approx(50.0)
    assert limits["sr"].pipeline_over_alone == pytest.approx(1.0 / limits["sr"].alone_p50_ms)
    assert sr.calls[-1] == (1, 1, 4, 4)  # alone on the SR stage's own input shape (HR 16 / 4)
