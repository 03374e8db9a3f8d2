"""A profile names its formats and precisions, best first, and picks a bundle's artifacts by them."""

import pytest

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.devices.profiles import PROFILES, get_profile
from echosr_edge.errors import BundleError, EchoSRError


def test_every_profile_lists_formats_then_precisions_best_first():
    assert get_profile("cpu").candidates() == [("onnx", "int8"), ("onnx", "fp32")]
    cuda = get_profile("cuda").candidates()
    assert cuda[0] == ("tensorrt", "int8") and ("onnx", "fp32") in cuda
    assert cuda.index(("tensorrt", "fp32")) < cuda.index(("onnx", "int8"))
    assert get_profile("intel-cpu").format == "openvino"
    assert set(PROFILES) == {"cpu", "intel-cpu", "jetson", "cuda"}


def test_threads_default_to_the_core_count():
    assert get_profile("cpu").threads >= 1


def test_unknown_device_suggests_the_closest_name():
    with pytest.raises(EchoSRError, match="Did you mean 'intel-cpu'"):
        get_profile("intel_cpu")


def test_profile_picks_its_best_precision_the_bundle_holds(bundle_dir):
    manifest = Manifest.load(bundle_dir)
    sr = manifest.sr_model()
    assert get_profile("cpu").choose_artifact(sr).precision == "int8"
    assert get_profile("cpu").choose_artifact(sr, "fp32").file.endswith(".fp32.onnx")


def test_profile_without_matching_artifacts_names_the_device_and_what_the_bundle_has(bundle_dir):
    sr = Manifest.load(bundle_dir).sr_model()
    with pytest.raises(BundleError, match=r"no openvino artifact .*'intel-cpu'.*onnx/fp32"):
        get_profile("intel-cpu").choose_artifact(sr)


def test_restricting_formats_keeps_the_profile_order():
    cuda = get_profile("cuda").with_formats(("onnx",))
    assert cuda.formats == ("onnx",)
    assert cuda.options_for("onnx")["providers"][0] == "CUDAExecutionProvider"


def test_options_are_added_without_changing_the_original():
    jetson = get_profile("jetson")
    dla = jetson.with_options("tensorrt", dla_core=1)
    assert dla.options_for("tensorrt") == {"dla_core": 1}
    assert jetson.options_for("tensorrt") == {"dla_core": None}


def _with_failed_int8(entry):
    """``entry`` with its INT8 artifacts marked as having missed their export budget."""
    from dataclasses import replace

    failed = {"metric": "agreement_vs_fp32", "value": 0.979, "passed": False, "failures": ["agreement 97.9% < 99%"]}
    return replace(entry, artifacts=tuple(
        replace(a, verification=failed) if a.precision == "int8" else a for a in entry.artifacts
    ))


def test_by_default_an_artifact_that_missed_its_export_budget_is_passed_over(bundle_dir):
    sr = _with_failed_int8(Manifest.load(bundle_dir).sr_model())
    cpu = get_profile("cpu")
    chosen = cpu.choose_artifact(sr)
    assert chosen.precision == "fp32"
    assert [a.precision for a in cpu.passed_over(sr, chosen)] == ["int8"]


def test_an_explicit_precision_runs_even_a_degraded_artifact(bundle_dir):
    sr = _with_failed_int8(Manifest.load(bundle_dir).sr_model())
    assert get_profile("cpu").choose_artifact(sr, "int8").precision == "int8"


def test_when_every_candidate_missed_its_budget_the_best_one_still_runs(bundle_dir):
    from dataclasses import replace

    sr = _with_failed_int8(Manifest.load(bundle_dir).sr_model())
    sr = replace(sr, artifacts=tuple(a for a in sr.artifacts if a.precision == "int8"))
    assert get_profile("cpu").choose_artifact(sr).precision == "int8"
