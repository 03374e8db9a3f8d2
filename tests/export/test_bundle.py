"""Export writes a verified, checksummed bundle with FP32 and INT8 ONNX artifacts."""

import json

import numpy as np
import pytest

from echosr_edge.bundle.integrity import open_bundle, sha256_file
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError, ConfigError


def test_bundle_holds_fp32_and_int8_onnx_for_every_model(bundle_dir):
    manifest = Manifest.load(bundle_dir)
    assert manifest.model_names == ["sr", "view"]
    for entry in manifest.models:
        assert {(a.format, a.precision) for a in entry.artifacts} == {("onnx", "fp32"), ("onnx", "int8")}
        for art in entry.artifacts:
            assert sha256_file(bundle_dir / art.file) == art.sha256
            # classifiers are checked on the 8 held-out frames and on their 8 SR-enhanced versions
            assert art.verification["frames"] == (8 if entry.role == "sr" else 16)


def test_classifiers_are_verified_on_the_frames_the_sr_model_enhanced_too(bundle_dir):
    view = Manifest.load(bundle_dir).model("view")
    for art in view.artifacts:
        assert art.verification["enhanced_frames"] == 8
    assert "enhanced_frames" not in Manifest.load(bundle_dir).sr_model().artifacts[0].verification


def test_every_artifact_records_the_runtime_options_it_was_verified_with(bundle_dir):
    from echosr_edge.devices.profiles import PROFILES

    for entry in Manifest.load(bundle_dir).models:
        for art in entry.artifacts:
            assert art.build["verified_with"] == {
                "device_profile": "cpu", "options": PROFILES["cpu"].options_for("onnx"), "runner": "runtime adapter"}


def test_manifest_records_labels_scale_and_preprocessing(bundle_dir):
    manifest = Manifest.load(bundle_dir)
    sr, view = manifest.model("sr"), manifest.model("view")
    assert sr.scale == 4 and sr.preprocessing["hr_size"] == 32 and sr.preprocessing["input_size"] == 8
    assert view.labels == ("2CH", "4CH") and view.task == "view"
    assert manifest.verification_frames["labels"]["view"]


def test_fp32_onnx_matches_pytorch_exactly_enough(bundle_dir):
    sr = Manifest.load(bundle_dir).model("sr").artifact("onnx", "fp32")
    assert sr.verification["value"] > 60.0  # dB against PyTorch FP32: float rounding only


def test_bundle_has_no_pickles(bundle_dir):
    for npy in bundle_dir.rglob("*.npy"):
        np.load(npy, allow_pickle=False)  # raises if an object array were stored
    assert not list(bundle_dir.rglob("*.pkl")) and not list(bundle_dir.rglob("*.pt"))


def test_onnx_files_carry_the_models_metadata(bundle_dir):
    onnx = pytest.importorskip("onnx")
    proto = onnx.load(str(bundle_dir / "models" / "view.fp32.onnx"))
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["echosr_edge.labels"] == "2CH,4CH" and props["echosr_edge.task"] == "view"


def test_unknown_schema_version_is_refused(bundle_copy):
    path = bundle_copy / "manifest.json"
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="schema version 99"):
        Manifest.load(bundle_copy)


def test_manifest_path_leaving_the_bundle_is_refused(bundle_copy):
    path = bundle_copy / "manifest.json"
    data = json.loads(path.read_text())
    data["models"][0]["artifacts"][0]["file"] = "../../etc/passwd"
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="leaves the bundle"):
        Manifest.load(bundle_copy)


def test_altered_model_file_is_refused_naming_the_file(bundle_copy):
    target = bundle_copy / "models" / "view.int8.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="models/view.int8.onnx does not match its checksum"):
        open_bundle(bundle_copy)


def test_int8_export_without_calibration_frames_is_refused(tmp_path, tiny_checkpoints):
    from echosr_edge.data.camus import read_camus  # noqa: F401
    from echosr_edge.export.bundle_writer import export_bundle

    with pytest.raises(ConfigError, match="calibration frames"):
        export_bundle(tiny_checkpoints, calibration=[], verification=[object()], out=tmp_path / "b")
