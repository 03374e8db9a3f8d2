"""The start-up check runs the verification frames through the chosen engines against the FP32 references."""

import json

import numpy as np
import pytest

from echosr_edge.bundle.integrity import file_pin, open_bundle
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.checks import VerificationFailed, check_engines, enforce
from echosr_edge.runtime.pipeline import load_pipeline


def _check(bundle, device="cpu", precision="fp32"):
    manifest = open_bundle(bundle)
    pipeline = load_pipeline(bundle, get_profile(device), precision=precision, manifest=manifest)
    return check_engines(bundle, manifest, pipeline)


def test_fp32_onnx_engines_reproduce_their_references(bundle_dir):
    check = _check(bundle_dir)
    by_model = {c.model: c for c in check.checks}
    assert check.passed and check.frames == 8
    assert by_model["sr"].metric == "psnr_vs_fp32_db" and by_model["sr"].value > 40
    assert by_model["view"].value == 1.0


def test_openvino_fp32_engines_reproduce_the_onnx_references(openvino_bundle):
    check = _check(openvino_bundle, "intel-cpu")
    assert check.passed and {c.format for c in check.checks} == {"openvino"}


def _corrupt_reference(bundle, name="view"):
    """Flip the FP32 reference's decisions and re-pin it, as a mismatched bundle would be."""
    path = bundle / f"verification/{name}.fp32-reference.npy"
    np.save(path, -np.load(path), allow_pickle=False)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["models"]:
        if entry["name"] == name:
            entry["reference"] = file_pin(bundle, f"verification/{name}.fp32-reference.npy")
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_engine_outside_budget_warns_and_strict_refuses(bundle_copy):
    _corrupt_reference(bundle_copy)
    check = _check(bundle_copy)
    assert not check.passed and [c.model for c in check.failures] == ["view"]
    warnings = enforce(check, strict=False)
    assert len(warnings) == 1 and "view (onnx/fp32): agreement_vs_fp32" in warnings[0] and "OUTSIDE BUDGET" in warnings[0]
    with pytest.raises(VerificationFailed, match="--strict"):
        enforce(check, strict=True)


def test_bundle_without_verification_frames_says_the_check_was_skipped(bundle_copy):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["verification_frames"] = {}
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    check = _check(bundle_copy)
    assert check.checks == () and "no verification frames" in check.skipped[0]


def test_a_decision_the_fp32_model_made_by_a_hair_is_not_held_against_the_engine():
    from echosr_edge.runtime.checks import classifier_agreement

    reference = np.array([[0.002, 0.0], [3.0, 0.0], [0.0, 3.0]])  # frame 0: 0.5005 vs 0.4995
    flipped_tie = np.array([[0.0, 0.001], [3.0, 0.0], [0.0, 3.0]])
    assert classifier_agreement(reference, flipped_tie) == (1.0, 1)
    flipped_confident = np.array([[0.002, 0.0], [0.0, 3.0], [0.0, 3.0]])
    assert classifier_agreement(reference, flipped_confident) == (pytest.approx(2 / 3), 0)


def _cached(bundle, threads=1, recheck=False):
    from dataclasses import replace

    from echosr_edge.runtime.checks import cached_check

    manifest = open_bundle(bundle)
    profile = replace(get_profile("cpu"), threads=threads)
    pipeline = load_pipeline(bundle, profile, precision="fp32", manifest=manifest)
    return cached_check(bundle, manifest, pipeline, profile, recheck)


def test_a_passed_start_up_check_is_reused_on_the_second_start(bundle_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(tmp_path))
    first, first_cached = _cached(bundle_dir)
    second, second_cached = _cached(bundle_dir)
    assert (first_cached, second_cached) == (False, True)
    assert second == first


def test_other_engine_settings_or_recheck_run_the_check_again(bundle_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(tmp_path))
    _cached(bundle_dir)
    assert _cached(bundle_dir, threads=2)[1] is False
    assert _cached(bundle_dir, recheck=True)[1] is False


def test_a_failed_start_up_check_is_never_cached(bundle_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(tmp_path))
    _corrupt_reference(bundle_copy)
    check, _ = _cached(bundle_copy)
    assert not check.passed
    assert _cached(bundle_copy)[1] is False
