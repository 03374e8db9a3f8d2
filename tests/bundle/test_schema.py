"""Manifest hardening: schema-validated field by field, strict JSON, bounded size."""

import json

import pytest

from echosr_edge.bundle.manifest import MAX_MANIFEST_BYTES, Manifest
from echosr_edge.errors import BundleError
from tests.bundle.conftest import edit_manifest, make_bundle


def _refused(bundle, change, match):
    edit_manifest(bundle, change)
    with pytest.raises(BundleError, match=match):
        Manifest.load(bundle)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.pop("models"), r"manifest field models: is missing"),
        (lambda d: d.pop("created"), r"manifest field created: is missing"),
        (lambda d: d["models"][1].pop("labels"), r"models\[1\]\.labels: a classifier needs at least one label"),
        (lambda d: d["models"][0]["artifacts"][0].pop("sha256"), r"models\[0\]\.artifacts\[0\]\.sha256: is missing"),
        (lambda d: d["models"][0]["artifacts"][0]["inputs"][0].pop("shape"), r"artifacts\[0\]\.inputs\[0\]\.shape: is missing"),
    ],
    ids=["models", "created", "labels", "sha256", "shape"],
)
def test_missing_field_is_refused_naming_it(mini_bundle, change, match):
    _refused(mini_bundle, change, match)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(models={}), r"models: expected a list, got an object"),
        (lambda d: d["models"][0]["artifacts"][0].update(size="12"), r"artifacts\[0\]\.size: expected an integer, got a string"),
        (lambda d: d["models"][0]["artifacts"][0].update(size=True), r"artifacts\[0\]\.size: expected an integer, got a boolean"),
        (lambda d: d["models"][0]["artifacts"][0].update(size=-1), r"artifacts\[0\]\.size: is negative"),
        (lambda d: d["models"][0].update(scale=None), r"models\[0\]\.scale: an SR model needs a scale"),
        (lambda d: d["models"][1].update(labels=["2CH", 4]), r"models\[1\]\.labels\[1\]: expected a string, got an integer"),
        (lambda d: d["models"][1]["artifacts"][0]["outputs"][0].update(shape=["batch", -2]), r"outputs\[0\]\.shape\[1\]: expected a size"),
        (lambda d: d["models"][0]["artifacts"][0].update(sha256="ABC"), r"sha256: expected 64 lowercase hex"),
    ],
    ids=["models-type", "size-string", "size-bool", "size-negative", "scale", "label-type", "shape", "sha-format"],
)
def test_wrong_type_or_value_is_refused_naming_the_field(mini_bundle, change, match):
    _refused(mini_bundle, change, match)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [("format", "pickle", "onnx, openvino, tensorrt"), ("precision", "int4", "fp32, fp16, int8")],
)
def test_unknown_format_or_precision_lists_the_allowed_ones(mini_bundle, field, value, allowed):
    _refused(mini_bundle, lambda d: d["models"][0]["artifacts"][0].update({field: value}),
             rf"artifacts\[0\]\.{field}: '{value}' is not one of {allowed}")


def test_unknown_role_is_refused(mini_bundle):
    _refused(mini_bundle, lambda d: d["models"][1].update(role="segmenter"), r"models\[1\]\.role: 'segmenter' is not one of sr, classifier")


def test_two_models_with_one_name_are_refused(mini_bundle):
    _refused(mini_bundle, lambda d: d["models"][1].update(name="sr"), r"models\[1\]\.name: a second model named 'sr'")


def test_two_artifacts_for_one_target_are_refused(mini_bundle):
    _refused(mini_bundle, lambda d: d["models"][1]["artifacts"][1].update(precision="fp32"),
             r"models\[1\]\.artifacts\[1\]: a second onnx/fp32 artifact")


def test_one_file_pinned_with_two_checksums_is_refused(mini_bundle):
    def change(d):
        d["models"][1]["artifacts"][1]["file"] = d["models"][1]["artifacts"][0]["file"]
    _refused(mini_bundle, change, r"pinned twice with different sha256")


def test_unknown_optional_keys_are_ignored(mini_bundle):
    edit_manifest(mini_bundle, lambda d: d["models"][0]["artifacts"][0].update(builder={"tool": "future"}))
    assert Manifest.load(mini_bundle).model("sr").artifacts[0].file == "models/sr.fp32.onnx"


def test_unknown_schema_version_is_refused_before_validation(mini_bundle):
    _refused(mini_bundle, lambda d: d.update(schema_version=2, models="junk"), r"schema version 2 is not supported")


def test_duplicate_json_key_is_refused(mini_bundle):
    path = mini_bundle / "manifest.json"
    path.write_text(path.read_text().replace('"created":', '"tool_version": "evil", "created":', 1))
    with pytest.raises(BundleError, match="key 'tool_version' appears twice"):
        Manifest.load(mini_bundle)


def test_nan_is_refused(mini_bundle):
    path = mini_bundle / "manifest.json"
    data = json.loads(path.read_text())
    data["notes"] = {"psnr": float("nan")}
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="NaN is not a JSON number"):
        Manifest.load(mini_bundle)


def test_deeply_nested_json_is_refused_not_crashed(mini_bundle):
    (mini_bundle / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(BundleError, match="not valid JSON"):
        Manifest.load(mini_bundle)


def test_manifest_over_the_size_limit_is_refused_before_parsing(mini_bundle):
    path = mini_bundle / "manifest.json"
    data = json.loads(path.read_text())
    data["notes"] = {"padding": "x" * MAX_MANIFEST_BYTES}
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="over the 1048576-byte limit for a manifest"):
        Manifest.load(mini_bundle)


def test_manifest_that_is_not_utf8_is_refused(mini_bundle):
    (mini_bundle / "manifest.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(BundleError, match="not valid JSON"):
        Manifest.load(mini_bundle)


def test_exported_bundle_passes_the_schema(bundle_dir):
    assert Manifest.load(bundle_dir).model_names == ["sr", "view"]


def test_a_manifest_with_an_infinite_psnr_saves_as_json_its_loader_reads(tmp_path):
    # An FP32 artifact identical to PyTorch verifies at PSNR = inf; JSON has no infinity.
    import json
    import math

    from echosr_edge.bundle.manifest import IDENTICAL_PSNR_DB, Manifest, _finite

    assert _finite({"psnr": math.inf, "x": [math.nan, -math.inf, 1.5]}) == {"psnr": IDENTICAL_PSNR_DB, "x": [None, -IDENTICAL_PSNR_DB, 1.5]}
    bundle = make_bundle(tmp_path / "b")
    manifest = Manifest.load(bundle)
    manifest.models[0].artifacts[0].verification["psnr_vs_fp32_db"] = math.inf
    manifest.save(bundle)
    assert json.loads((bundle / "manifest.json").read_text())  # strict JSON
    assert Manifest.load(bundle).models[0].artifacts[0].verification["psnr_vs_fp32_db"] == IDENTICAL_PSNR_DB
