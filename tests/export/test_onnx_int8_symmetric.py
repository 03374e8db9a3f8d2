"""--onnx-int8 symmetric: the INT8 ONNX a jetson or cuda device builds its INT8 TensorRT engine from."""

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.devices.profiles import get_profile


def test_a_symmetric_int8_onnx_is_what_an_int8_engine_is_planned_from(tmp_path, tiny_checkpoints, frames):
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle

    manifest, _ = export_bundle(
        {"sr": tiny_checkpoints["sr"]}, calibration=frames, verification=frames, out=tmp_path / "bundle",
        config=ExportConfig(calibration_count=8, verification_count=4, allow_degraded=True, onnx_int8="symmetric"),
    )
    assert Manifest.load(tmp_path / "bundle").notes["export"]["onnx_int8"] == "symmetric"
    for entry in manifest.models:
        int8 = entry.artifact("onnx", "int8")
        assert int8.build["activations"] == "int8 symmetric"
        planned = get_profile("jetson").choose_artifact(entry, "int8")
        assert planned.format == "tensorrt" and planned.sha256 == int8.sha256
