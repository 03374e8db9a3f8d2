"""The out-of-distribution gate: trained against synthetic outliers, calibrated, its threshold
stored in the checkpoint, carried into the manifest and checked on the exported artifact."""

from collections import Counter
from types import SimpleNamespace

import pytest

pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")


@pytest.fixture(scope="module")
def gate(tmp_path_factory, camus_root):
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import cardiac_job

    out = tmp_path_factory.mktemp("gate") / "cardiac.pt"
    return cardiac_job(camus_root, out, ClassifierTrainConfig(task="cardiac", input_size=32, epochs=1, lr=1e-3), hr_size=32)


def test_the_gate_checkpoint_carries_its_threshold_and_calibration(gate):
    from echosr_edge.models.checkpoint import load_checkpoint

    _, meta = load_checkpoint(gate.checkpoint)
    assert meta["task"] == "cardiac" and meta["labels"] == ["cardiac", "other"]
    assert meta["ood"]["coverage_target"] == 0.99 and meta["ood"]["in_distribution_accepted"] >= 0.99
    assert meta["ood"]["tiers"] and all(t["accepted"] >= 0.99 for t in meta["ood"]["tiers"].values())
    assert meta["calibration"]["temperature"] > 0 and "min_confidence" not in meta["calibration"]
    assert "eye" in meta["held_out_kinds"] and "eye" not in meta["outlier_kinds"]


def test_every_classifier_job_reports_ece_before_and_after(tiny_checkpoints):
    from echosr_edge.models.checkpoint import load_checkpoint

    _, meta = load_checkpoint(tiny_checkpoints["view"])
    assert {"ece_before", "ece_after"} <= set(meta["evaluation"])
    # The fixture's few held-out frames cannot promise 99 % answered: no low-confidence threshold.
    assert meta["calibration"]["min_confidence"] is None and meta["calibration"]["confidence_frames_needed"] == 99


def test_the_gate_trains_on_every_quality_tier_equally_often():
    from echosr_edge.train.jobs import balance_tiers

    frames = [SimpleNamespace(quality=q, key=f"{q}{i}") for q, n in (("good", 8), ("medium", 5), ("poor", 2)) for i in range(n)]
    balanced = balance_tiers(frames)
    assert Counter(f.quality for f in balanced) == {"good": 8, "medium": 8, "poor": 8}
    assert {f.key for f in balanced} == {f.key for f in frames}


def test_export_carries_the_threshold_and_checks_it_on_the_artifact(gate, tmp_path, camus_root):
    pytest.importorskip("onnx", reason="export needs the 'export' extra (onnx)")
    from echosr_edge.data.camus import read_camus
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle

    frames = read_camus(camus_root).frames
    manifest, _ = export_bundle({"cardiac": gate.checkpoint}, calibration=frames, verification=frames, out=tmp_path / "b",
                                config=ExportConfig(precisions=("fp32",), verification_count=8, allow_degraded=True))
    entry = manifest.model("cardiac")
    assert entry.ood["threshold"] == pytest.approx(load_threshold(gate.checkpoint))
    check = entry.artifacts[0].verification["ood"]
    assert check["outlier_frames"] == 32 and check["cardiac_frames"] == 8
    assert sum(frames for _, frames in check["cardiac_accepted_by_tier"].values()) == 8
    assert 0.0 <= check["cardiac_accepted"] <= 1.0 and 0.0 <= check["outliers_refused"] <= 1.0


def load_threshold(path) -> float:
    from echosr_edge.models.checkpoint import load_checkpoint

    return load_checkpoint(path)[1]["ood"]["threshold"]
