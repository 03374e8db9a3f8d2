"""Training writes checkpoints that load back and report held-out metrics."""

import json

import pytest

pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.models.checkpoint import load_checkpoint  # noqa: E402


def test_sr_checkpoint_carries_its_role_sizes_and_evaluation(tiny_checkpoints):
    model, meta = load_checkpoint(tiny_checkpoints["sr"])
    assert meta["role"] == "sr" and meta["scale"] == 4 and meta["hr_size"] == 32
    assert meta["evaluation"]["sr_psnr"] > 0 and meta["evaluation"]["bicubic_psnr"] > 0


def test_classifier_checkpoint_carries_task_labels_and_split(tiny_checkpoints):
    _, meta = load_checkpoint(tiny_checkpoints["view"])
    assert meta["task"] == "view" and meta["labels"] == ["2CH", "4CH"]
    assert meta["split"] == "patient"
    assert 0.0 <= meta["evaluation"]["accuracy"] <= 1.0


def test_training_writes_one_metrics_line_per_epoch(tiny_checkpoints):
    lines = tiny_checkpoints["view"].with_suffix(".metrics.jsonl").read_text().splitlines()
    assert [json.loads(l)["epoch"] for l in lines] == [1]


def test_a_missing_checkpoint_is_a_clear_error(tmp_path):
    from echosr_edge.errors import DataError

    with pytest.raises(DataError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
