"""A budget failure is reported, never hidden: left out (or kept with --allow-degraded), and said so."""

import json

import pytest

from echosr_edge.bundle.budgets import Budgets
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.export.verify import verify_classifier, verify_ood, verify_sr


def _export(tiny_checkpoints, frames, out, **kw):
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle

    config = ExportConfig(calibration_count=8, verification_count=4, budgets=Budgets(sr_min_psnr_db=500.0), **kw)
    return export_bundle({"sr": tiny_checkpoints["sr"]}, frames, frames, out, config)


def test_artifact_over_budget_is_left_out_and_reported(tmp_path, tiny_checkpoints, frames):
    manifest, rows = _export(tiny_checkpoints, frames, tmp_path / "b")
    assert [r.status for r in rows] == ["over budget (left out)"] * 2
    assert Manifest.load(tmp_path / "b").model("sr").artifacts == ()
    assert not list((tmp_path / "b" / "models").iterdir())
    left = manifest.notes["left_out"]
    assert [(x["precision"], x["reason"].split(":")[0]) for x in left] == [("fp32", "over budget"), ("int8", "over budget")]
    assert "< 500 dB" in left[1]["reason"]


def test_allow_degraded_keeps_it_marked_as_failed(tmp_path, tiny_checkpoints, frames):
    _, rows = _export(tiny_checkpoints, frames, tmp_path / "b", allow_degraded=True)
    assert {r.status for r in rows} == {"degraded (kept)"}
    art = Manifest.load(tmp_path / "b").model("sr").artifact("onnx", "int8")
    assert art.verification["passed"] is False and art.verification["failures"]
    table = json.loads((tmp_path / "b" / "manifest.json").read_text())["notes"]["table"]
    assert [row["status"] for row in table] == ["degraded (kept)"] * 2


def test_sr_check_compares_with_fp32_and_with_hr():
    import numpy as np

    rng = np.random.default_rng(0)
    hr = rng.random((3, 1, 16, 16), dtype=np.float32)
    ref = np.clip(hr + 0.01, 0, 1)
    check = verify_sr(ref, ref + 0.02, hr, min_psnr=40.0)
    assert check["value"] == pytest.approx(20 * np.log10(1 / 0.02), abs=0.5) and not check["passed"]
    assert check["psnr_vs_hr_db"] < check["psnr_vs_hr_fp32_db"]
    assert check["failures"] == [f"PSNR vs FP32 {check['value']:.2f} dB < 40 dB"]


def test_classifier_check_fails_an_accuracy_drop_beyond_one_point():
    import numpy as np

    ref = np.eye(2)[[0, 1, 0, 1] * 25]  # 100 frames, FP32 all correct
    got = ref.copy()
    got[[0, 1]] = got[[0, 1]][:, ::-1]  # two flipped: 98 % agreement, −2 points
    check = verify_classifier(ref, got, np.array([0, 1, 0, 1] * 25))
    assert check["value"] == 0.98 and check["accuracy_delta"] == pytest.approx(-0.02)
    assert check["failures"] == ["agreement 98.00% (98/100 frames) < 99%", "accuracy drop 2.0 points > 1"]


def test_an_agreement_just_under_budget_is_not_rounded_up_to_it():
    import numpy as np

    ref = np.eye(2)[[0, 1] * 48]  # 96 frames
    got = ref.copy()
    got[5] = got[5][::-1]  # 95/96 = 98.96 %, which one decimal would print as "99.0% < 99%"
    check = verify_classifier(ref, got)
    assert not check["passed"]
    assert check["failures"] == ["agreement 98.96% (95/96 frames) < 99%"]


def test_the_gate_check_counts_each_tiers_accepted_frames_and_fails_only_on_the_whole():
    import numpy as np

    # margin other - cardiac = column 1 - column 0; threshold 0. One poor heart of two past it, outliers refused.
    logits = np.array([[0.0, -3.0]] * 18 + [[0.0, 2.0], [0.0, -1.0]] + [[0.0, 4.0]] * 4)
    labels = np.array([0] * 20 + [1] * 4)
    tiers = np.array(["good"] * 18 + ["poor"] * 2 + ["none"] * 4)
    check = verify_ood(logits, labels, ("cardiac", "other"), {"threshold": 0.0, "coverage_target": 0.99}, tiers)
    assert check["cardiac_accepted_by_tier"] == {"good": [18, 18], "poor": [1, 2]}
    assert check["cardiac_accepted"] == 0.95 and check["failures"] == []
