"""Bundle profiles: the manifest's `profiles` mapping, validated field by field, narrowing the models."""

import copy
import json

import pytest

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.bundle.schema import validate_manifest
from echosr_edge.errors import BundleError

SHA = "0" * 64


def _model(name, role, task=None, labels=(), scale=None):
    d = {"name": name, "role": role, "arch": "x", "preprocessing": {"hr_size": 32, "input_size": 8},
         "artifacts": [{"format": "onnx", "precision": "fp32", "file": f"models/{name}.onnx", "sha256": SHA, "size": 1,
                        "inputs": [{"name": "input", "shape": [1, 1, 8, 8]}], "outputs": [{"name": "output", "shape": [1, 2]}]}]}
    if task:
        d.update(task=task, labels=list(labels))
    if scale:
        d["scale"] = scale
    return d


def _manifest(profiles=None) -> dict:
    d = {"schema_version": 1, "created": "now", "tool_version": "0",
         "models": [_model("sr", "sr", scale=4), _model("sr_rfdn", "sr", scale=4),
                    _model("view", "classifier", "view", ("2CH", "4CH")),
                    _model("view_16", "classifier", "view", ("2CH", "4CH"))]}
    if profiles is not None:
        d["profiles"] = profiles
    return d


PROFILES = {"default": {"sr": "sr", "view": "view"}, "realtime": {"sr": "sr_rfdn", "view": "view_16"}}


def test_a_profile_narrows_the_manifest_to_its_models():
    manifest = Manifest.from_dict(_manifest(PROFILES))
    realtime = manifest.for_profile("realtime")
    assert [m.name for m in realtime.models] == ["sr_rfdn", "view_16"]
    assert realtime.sr_model().name == "sr_rfdn"
    assert [m.name for m in manifest.for_profile("default").models] == ["sr", "view"]
    assert manifest.profile_names == ["default", "realtime"]


def test_a_bundle_without_profiles_has_one_implicit_default_and_saves_as_before():
    manifest = Manifest.from_dict(_manifest())
    assert manifest.profile_names == ["default"]
    assert manifest.for_profile("default") is manifest
    assert "profiles" not in manifest.to_dict()
    with pytest.raises(BundleError, match="no profile 'realtime'.*export --profile realtime"):
        manifest.for_profile("realtime")


def test_an_unknown_profile_lists_the_known_ones_and_suggests_the_closest():
    manifest = Manifest.from_dict(_manifest(PROFILES))
    with pytest.raises(BundleError, match=r"no profile 'realtme' \(it has: default, realtime\).*Did you mean 'realtime'"):
        manifest.for_profile("realtme")


def test_profiles_round_trip_through_json(tmp_path):
    manifest = Manifest.from_dict(_manifest(PROFILES))
    manifest.save(tmp_path)
    assert json.loads((tmp_path / "manifest.json").read_text())["profiles"] == PROFILES
    assert Manifest.from_dict(json.loads((tmp_path / "manifest.json").read_text())).profiles == PROFILES


@pytest.mark.parametrize(
    "profiles, message",
    [
        ({"realtime": {"sr": "sr"}}, r"profiles: has no 'default' profile"),
        ({"default": {"sr": "nope", "view": "view"}}, r"profiles\.default\.sr: names 'nope', which is not a model"),
        ({"default": {"sr": "view", "view": "view"}}, r"profiles\.default\.sr: model 'view' is a view model, not sr"),
        ({"default": {"view": "sr"}}, r"profiles\.default\.view: model 'sr' is a sr model, not view"),
        ({"default": {"colour": "sr"}}, r"profiles\.default\.colour: 'colour' is not one of sr, view, phase, quality"),
        ({"default": {"sr": 3}}, r"profiles\.default\.sr: expected a model name, got an integer"),
        ({"default": []}, r"profiles\.default: expected an object, got a list"),
        ({"default": {}}, r"profiles\.default: names no model to run"),
        ([], r"profiles: expected an object, got a list"),
    ],
)
def test_a_broken_profiles_field_is_refused_naming_the_field(profiles, message):
    with pytest.raises(BundleError, match=message):
        validate_manifest(_manifest(copy.deepcopy(profiles)))
