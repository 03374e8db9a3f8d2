"""Training writes checkpoints that load back and report held-out metrics."""

import json

import pytest

pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.errors import ConfigError  # noqa: E402
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
    assert [json.loads(line)["epoch"] for line in lines] == [1]


def test_a_missing_checkpoint_is_a_clear_error(tmp_path):
    from echosr_edge.errors import DataError

    with pytest.raises(DataError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_sr_evaluation_reports_psnr_and_ssim_against_bicubic_with_the_convention(tiny_checkpoints):
    _, meta = load_checkpoint(tiny_checkpoints["sr"])
    evaluation = meta["evaluation"]
    assert 0.0 < evaluation["sr_ssim"] <= 1.0 and 0.0 < evaluation["bicubic_ssim"] <= 1.0
    assert evaluation["psnr_gain_db"] == pytest.approx(evaluation["sr_psnr"] - evaluation["bicubic_psnr"])
    assert "data range 1.0" in evaluation["metric_convention"]
    assert meta["model"] == "srresnet" and meta["split"] == "patient" and meta["train_frames"] > 0
    assert meta["init"] == "random"


def test_srgan_job_states_its_content_loss_fallback_in_the_checkpoint(tmp_path, camus_root):
    from echosr_edge.train.gan import SRGANTrainConfig
    from echosr_edge.train.jobs import srgan_job

    config = SRGANTrainConfig(hr_size=32, features=8, blocks=1, epochs=1, patch_lr=4, device="cpu", discriminator_features=4)
    result = srgan_job(camus_root, tmp_path / "srgan.pt", config)
    model, meta = load_checkpoint(result.checkpoint)
    assert meta["role"] == "sr" and meta["model"] == "srgan" and meta["arch"] == "srresnet"
    assert meta["content_loss"] == "mse" and "no VGG19 weights" in meta["content_loss_note"]
    assert meta["adversarial_weight"] == 1e-3
    records = [json.loads(line) for line in result.metrics_path.read_text().splitlines()]
    assert {"d_loss", "content", "adversarial", "d_real", "d_fake"} <= set(records[0])


def test_srgan_can_start_from_a_trained_sr_checkpoint(tmp_path, frames, tiny_checkpoints):
    import torch

    from echosr_edge.train.gan import SRGANTrainConfig
    from echosr_edge.train.sr import build_sr_model

    config = SRGANTrainConfig(hr_size=32, features=8, blocks=1, pretrained=tiny_checkpoints["sr"], device="cpu")
    model, how = build_sr_model(config)
    source, _ = load_checkpoint(tiny_checkpoints["sr"])
    assert how["init"] == "pretrained" and how["pretrained_layout"] == "echosr-edge"
    assert torch.equal(model.tail.weight, source.tail.weight)


def test_quality_job_is_a_three_tier_classifier_with_recall_per_tier(tmp_path, camus_root):
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import quality_job

    config = ClassifierTrainConfig(task="quality", input_size=32, epochs=1, balanced=True, device="cpu")
    result = quality_job(camus_root, tmp_path / "quality.pt", config, hr_size=32)
    model, meta = load_checkpoint(result.checkpoint)
    assert meta["task"] == "quality" and meta["labels"] == ["good", "medium", "poor"]
    assert "gate" in meta["purpose"] and meta["train_config"]["balanced"] is True
    confusion = meta["evaluation"]["confusion"]
    assert len(confusion) == 3 and sum(map(sum, confusion)) == meta["evaluation"]["frames"]


def test_quality_job_refuses_another_task(tmp_path, camus_root):
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import quality_job

    with pytest.raises(ConfigError, match="task 'quality'"):
        quality_job(camus_root, tmp_path / "q.pt", ClassifierTrainConfig(task="view"), hr_size=32)


def test_balanced_class_weights_favour_the_rare_class():
    import numpy as np

    from echosr_edge.train.classifier import class_weights

    weights = class_weights(np.array([0, 0, 0, 0, 1, 1, 2]), 3)
    assert weights[2] > weights[1] > weights[0]
    assert class_weights(np.array([0, 1]), 3)[2] == 0.0


def test_cosine_schedule_decays_to_zero_and_constant_stays():
    from echosr_edge.train.sr import SRTrainConfig, lr_at

    cosine = SRTrainConfig(lr=1e-3, lr_schedule="cosine")
    assert lr_at(cosine, 0, 100) == pytest.approx(1e-3)
    assert lr_at(cosine, 50, 100) == pytest.approx(5e-4)
    assert lr_at(cosine, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert lr_at(SRTrainConfig(lr=1e-4), 99, 100) == 1e-4


def test_an_unknown_init_is_refused():
    from echosr_edge.train.sr import SRTrainConfig

    with pytest.raises(ConfigError, match="unknown init 'bilinear'"):
        SRTrainConfig(init="bilinear")
