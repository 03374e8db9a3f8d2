"""`echosr-edge train …`: schedules with overrides, the quality model, one line per epoch."""

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.cli import main  # noqa: E402
from echosr_edge.models.checkpoint import load_checkpoint  # noqa: E402


def test_train_sr_takes_a_schedule_and_command_line_overrides(tmp_path, camus_root):
    out = tmp_path / "sr.pt"
    args = ["train", "sr", str(camus_root), "--out", str(out), "--schedule", "smoke", "--epochs", "1",
            "--blocks", "1", "--features", "8", "--hr-size", "64", "--patch", "8", "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "sr epoch 1: loss" in result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["checkpoint"] == str(out) and "psnr_gain_db" in summary
    _, meta = load_checkpoint(out)
    config = meta["train_config"]
    assert (config["epochs"], config["blocks"], config["hr_size"]) == (1, 1, 64)  # overrides
    assert (config["init"], config["lr_schedule"], config["lr"]) == ("interpolation", "cosine", 5e-4)  # smoke


def test_train_quality_writes_a_quality_checkpoint(tmp_path, camus_root):
    out = tmp_path / "quality.pt"
    args = ["train", "quality", str(camus_root), "--out", str(out), "--epochs", "1", "--input-size", "32",
            "--hr-size", "32", "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "no --imagenet-weights" in result.output
    _, meta = load_checkpoint(out)
    assert meta["labels"] == ["good", "medium", "poor"] and meta["train_config"]["balanced"] is True


def test_train_classifier_augment_robust_is_recorded_in_the_checkpoint(tmp_path, camus_root):
    out = tmp_path / "phase.pt"
    args = ["train", "classifier", str(camus_root), "--task", "phase", "--out", str(out), "--epochs", "1",
            "--input-size", "32", "--hr-size", "32", "--device", "cpu", "--augment", "robust"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    _, meta = load_checkpoint(out)
    assert meta["train_config"]["augment"] == "robust"


def test_train_sr_with_an_unreadable_pretrained_file_is_one_line(tmp_path, camus_root):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a torch file")
    result = CliRunner().invoke(main, ["train", "sr", str(camus_root), "--out", str(tmp_path / "x.pt"), "--pretrained", str(bad)])
    assert result.exit_code == 1
    assert "weights.pth: cannot be read with weights_only=True" in result.output and "Traceback" not in result.output


def test_train_schedules_lists_paper_and_smoke():
    result = CliRunner().invoke(main, ["train", "schedules"])
    assert result.exit_code == 0
    assert result.output.startswith("paper:") and "\nsmoke:" in result.output and '"epochs": 4000' in result.output
