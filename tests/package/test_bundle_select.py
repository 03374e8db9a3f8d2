"""Cutting a bundle down to one target's artifacts, and the device that runs what is left."""

import json

import pytest

from echosr_edge.bundle.integrity import sha256_file
from echosr_edge.bundle.manifest import Artifact, Manifest, ModelEntry
from echosr_edge.errors import BundleError
from echosr_edge.package.bundle_select import bundle_problems, copy_selection, select_for_target
from echosr_edge.package.targets import get_target


def manifest_with(**models: list[str]) -> Manifest:
    """A manifest whose models hold the given "format/precision" artifacts (files need not exist)."""
    entries = []
    for name, arts in models.items():
        artifacts = tuple(
            Artifact(format=f, precision=p, file=f"models/{name}.{p}.{f}", sha256="0" * 64, size=1, inputs=(), outputs=())
            for f, p in (a.split("/") for a in arts)
        )
        entries.append(ModelEntry(name=name, role="classifier", arch="resnet18", preprocessing={}, artifacts=artifacts))
    return Manifest(schema_version=1, created="now", tool_version="0", models=tuple(entries))


def formats_of(selection) -> dict[str, list[str]]:
    return {m.name: [f"{a.format}/{a.precision}" for a in m.artifacts] for m in selection.manifest.models}


def test_cpu_keeps_onnx_int8_and_fp32_only():
    sel = select_for_target(manifest_with(view=["onnx/fp32", "onnx/int8", "onnx/fp16", "openvino/int8", "tensorrt/fp16"]), get_target("cpu"))
    assert formats_of(sel) == {"view": ["onnx/fp32", "onnx/int8"]}
    assert sorted(sel.dropped) == ["view: onnx/fp16", "view: openvino/int8", "view: tensorrt/fp16"]
    assert sel.device == "cpu" and sel.notes == ()
    assert sel.manifest.notes["packaged_for"] == "cpu"


def test_intel_cpu_keeps_openvino_and_the_onnx_fallback_and_runs_openvino():
    sel = select_for_target(manifest_with(sr=["openvino/int8", "onnx/int8", "tensorrt/int8"]), get_target("intel-cpu"))
    assert formats_of(sel) == {"sr": ["openvino/int8", "onnx/int8"]}
    assert sel.device == "intel-cpu" and sel.notes == ()


def test_intel_cpu_without_openvino_runs_the_onnx_fallback_and_says_so():
    sel = select_for_target(manifest_with(sr=["openvino/int8", "onnx/int8"], view=["onnx/fp32"]), get_target("intel-cpu"))
    assert sel.device == "cpu"
    assert len(sel.notes) == 1 and "no openvino artifact in the bundle for view" in sel.notes[0]


def test_jetson_ships_onnx_only_and_says_the_engines_are_built_on_the_device():
    sel = select_for_target(manifest_with(sr=["onnx/fp16", "onnx/int8"], view=["tensorrt/fp16", "onnx/fp32"]), get_target("jetson"))
    assert formats_of(sel) == {"sr": ["onnx/fp16", "onnx/int8"], "view": ["onnx/fp32"]}
    assert sel.dropped == ("view: tensorrt/fp16",)  # a workstation engine never loads on a Jetson
    assert sel.device == "jetson"
    assert "builds the TensorRT engines on the device" in sel.notes[0]


def test_model_with_nothing_the_target_runs_is_refused_naming_it():
    with pytest.raises(BundleError, match="model 'view' has no artifact a cpu device can run .*openvino/int8"):
        select_for_target(manifest_with(sr=["onnx/int8"], view=["openvino/int8"]), get_target("cpu"))


def test_models_with_no_common_format_are_refused():
    with pytest.raises(BundleError, match="no one format of openvino, onnx covers every model"):
        select_for_target(manifest_with(sr=["openvino/int8"], view=["onnx/int8"]), get_target("intel-cpu"))


def test_copy_keeps_the_files_and_checksums_and_drops_the_other_targets(tmp_path, bundle_copy):
    data = json.loads((bundle_copy / "manifest.json").read_text())
    # Give the test bundle a file another target would use, so the cut has something to drop.
    engine = bundle_copy / "models" / "view.fp16.engine"
    engine.write_bytes(b"not for a cpu")
    view = next(m for m in data["models"] if m["name"] == "view")
    view["artifacts"].append({**view["artifacts"][0], "format": "tensorrt", "precision": "fp16", "file": "models/view.fp16.engine", "sha256": sha256_file(engine), "size": engine.stat().st_size})
    (bundle_copy / "manifest.json").write_text(json.dumps(data))

    sel = select_for_target(Manifest.load(bundle_copy), get_target("cpu"))
    copy_selection(bundle_copy, sel, tmp_path / "cut")
    cut = Manifest.load(tmp_path / "cut")
    assert not (tmp_path / "cut" / "models" / "view.fp16.engine").exists()
    for rel, sha, _ in cut.pinned_files():
        assert sha256_file(tmp_path / "cut" / rel) == sha256_file(bundle_copy / rel) == sha
    assert sel.dropped == ("view: tensorrt/fp16",)
    assert bundle_problems(tmp_path / "cut", get_target("cpu")) == []


def test_copy_refuses_an_altered_source_bundle_naming_the_file(tmp_path, bundle_copy):
    target = bundle_copy / "models" / "sr.int8.onnx"
    target.write_bytes(target.read_bytes()[:-4] + b"abcd")
    sel = select_for_target(Manifest.load(bundle_copy), get_target("cpu"))
    with pytest.raises(BundleError, match="models/sr.int8.onnx does not match its checksum"):
        copy_selection(bundle_copy, sel, tmp_path / "cut")


def test_a_bundle_cut_for_cpu_does_not_suit_jetson(tmp_path, bundle_dir):
    sel = select_for_target(Manifest.load(bundle_dir), get_target("cpu"))
    copy_selection(bundle_dir, sel, tmp_path / "cut")
    assert bundle_problems(tmp_path / "cut", get_target("jetson")) == ["the bundle was cut for 'cpu', but the kit is for 'jetson'"]


def test_intel_cpu_copy_takes_the_openvino_bin_beside_its_xml(tmp_path, bundle_copy):
    xml, weights = bundle_copy / "models" / "view.int8.xml", bundle_copy / "models" / "view.int8.bin"
    xml.write_text("<net/>")  # stand-ins: the copy checks names and checksums, not the IR inside
    weights.write_bytes(b"\x00" * 64)
    data = json.loads((bundle_copy / "manifest.json").read_text())
    for model in data["models"]:
        model["artifacts"].append({
            **model["artifacts"][0], "format": "openvino", "precision": "int8", "file": "models/view.int8.xml",
            "sha256": sha256_file(xml), "size": xml.stat().st_size,
            "companions": [{"file": "models/view.int8.bin", "sha256": sha256_file(weights), "size": 64}],
        })
    (bundle_copy / "manifest.json").write_text(json.dumps(data))

    sel = select_for_target(Manifest.load(bundle_copy), get_target("intel-cpu"))
    copy_selection(bundle_copy, sel, tmp_path / "cut")
    assert (tmp_path / "cut" / "models" / "view.int8.bin").read_bytes() == b"\x00" * 64
    assert sel.device == "intel-cpu"
    assert bundle_problems(tmp_path / "cut", get_target("intel-cpu")) == []
