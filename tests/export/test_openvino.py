"""OpenVINO IR: FP32 and NNCF INT8 in the bundle, verified, with the sensitive convs kept in float."""

import numpy as np
import pytest

from echosr_edge.bundle.integrity import open_bundle

pytestmark = pytest.mark.slow


def test_bundle_pins_the_ir_and_its_bin(openvino_bundle):
    out, manifest, _ = openvino_bundle
    open_bundle(out)  # every pinned file, .bin companions included, matches its checksum
    sr = manifest.model("sr")
    for precision in ("fp32", "int8"):
        art = sr.artifact("openvino", precision)
        assert art.file == f"models/sr.{precision}.xml"
        assert [c["file"] for c in art.companions] == [f"models/sr.{precision}.bin"]


def test_openvino_artifacts_are_verified_against_fp32(openvino_bundle):
    _, manifest, rows = openvino_bundle
    sr = manifest.model("sr")
    fp32 = sr.artifact("openvino", "fp32").verification
    int8 = sr.artifact("openvino", "int8").verification
    assert fp32["value"] > 60.0 and fp32["passed"]
    assert int8["value"] >= 40.0 and int8["frames"] == 8 and "psnr_vs_hr_db" in int8 and "ssim_vs_fp32" in int8
    assert {(r.target, r.precision) for r in rows} == {(t, p) for t in ("onnx", "openvino") for p in ("fp32", "int8")}


def test_openvino_int8_keeps_the_sensitive_convs_in_float(openvino_bundle):
    ov = pytest.importorskip("openvino")
    from echosr_edge.export.openvino_export import unquantized_convolutions

    out, manifest, _ = openvino_bundle
    art = manifest.model("sr").artifact("openvino", "int8")
    assert art.float_layers == (
        "/head/head.0/Conv/WithoutBiases", "/upsample/upsample.0/conv/Conv/WithoutBiases", "/tail/Conv/WithoutBiases")
    model = ov.Core().read_model(str(out / art.file))
    assert unquantized_convolutions(model) == list(art.float_layers)
    assert any(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops())


def test_ir_carries_the_models_metadata(openvino_bundle):
    ov = pytest.importorskip("openvino")
    out, _, _ = openvino_bundle
    model = ov.Core().read_model(str(out / "models" / "sr.fp32.xml"))
    assert model.get_rt_info(["model_info", "echosr_edge.scale"]).astype(str) == "4"


def test_fp16_ir_stores_half_weights(sr_onnx, tmp_path, calibration_inputs):
    pytest.importorskip("openvino")
    from echosr_edge.export.openvino_export import onnx_to_ir
    from echosr_edge.export.verify import run_artifact

    xml32, bin32 = onnx_to_ir(sr_onnx, tmp_path / "a.xml", "fp32")
    xml16, bin16 = onnx_to_ir(sr_onnx, tmp_path / "b.xml", "fp16")
    assert bin16.stat().st_size < 0.6 * bin32.stat().st_size
    out, ms = run_artifact(xml16, "openvino", calibration_inputs)
    assert out.shape == (len(calibration_inputs), 1, 32, 32) and ms > 0


def test_accuracy_controlled_quantisation_meets_its_max_drop(sr_onnx, sr_model, frames, tmp_path):
    pytest.importorskip("nncf")
    from echosr_edge.export.openvino_export import AccuracyControl, quantize_ir
    from echosr_edge.export.verify import run_artifact
    from echosr_edge.metrics import mean_psnr, psnr

    images = [f.image for f in frames[:8]]
    inputs, hr = sr_model.inputs(images), sr_model.hr(images)
    metric = lambda out, target: np.array([psnr(t[0], np.clip(o[0], 0, 1)) for o, t in zip(out, target)])  # noqa: E731
    control = AccuracyControl(inputs, hr, metric, max_drop=0.05)
    (xml, _), floats = quantize_ir(sr_onnx, tmp_path / "ac.xml", inputs, accuracy_control=control, spatial=(8, 8))
    int8, _ = run_artifact(xml, "openvino", inputs)
    fp32, _ = run_artifact(_fp32_ir(sr_onnx, tmp_path), "openvino", inputs)
    assert mean_psnr(hr, np.clip(int8, 0, 1)) >= mean_psnr(hr, np.clip(fp32, 0, 1)) - 0.05 - 1e-6
    assert all(name.endswith("WithoutBiases") for name in floats)  # what it reverted to float is named


def _fp32_ir(onnx_path, tmp_path):
    from echosr_edge.export.openvino_export import onnx_to_ir

    return onnx_to_ir(onnx_path, tmp_path / "fp32.xml", "fp32")[0]


def test_openvino_artifacts_are_verified_with_the_intel_cpu_profiles_engine_options(openvino_bundle):
    from echosr_edge.devices.profiles import PROFILES

    _, manifest, _ = openvino_bundle
    for precision in ("fp32", "int8"):
        build = manifest.model("sr").artifact("openvino", precision).build
        assert build["verified_with"] == {
            "device_profile": "intel-cpu",
            "options": PROFILES["intel-cpu"].options_for("openvino"),
            "runner": "runtime adapter",
        }
