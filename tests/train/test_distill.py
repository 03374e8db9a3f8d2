"""Distillation trains a light student against HR and the teacher, and records both fidelities."""

import pytest

pytest.importorskip("torch", reason="distillation needs the 'train' extra (torch)")

from click.testing import CliRunner  # noqa: E402

from echosr_edge.cli import main  # noqa: E402
from echosr_edge.errors import ConfigError  # noqa: E402
from echosr_edge.models.checkpoint import load_checkpoint  # noqa: E402
from echosr_edge.train.distill import DistillConfig  # noqa: E402
from echosr_edge.train.jobs import distill_job  # noqa: E402


def _config(**kw):
    base = dict(hr_size=32, epochs=2, lr=1e-3, patch_lr=8, student="espcn", student_config={"features": 8, "features2": 4})
    base.update(kw)
    return DistillConfig(**base)


def test_student_checkpoint_records_teacher_and_both_fidelities(tmp_path, camus_root, tiny_checkpoints):
    result = distill_job(camus_root, tmp_path / "student.pt", tiny_checkpoints["sr"], _config())
    model, meta = load_checkpoint(result.checkpoint)
    assert meta["arch"] == "espcn" and meta["role"] == "sr" and meta["teacher"].endswith("sr.pt")
    ev = meta["evaluation"]
    assert ev["sr_psnr"] > 0 and ev["psnr_vs_teacher"] > 0 and ev["teacher"]["sr_psnr"] > 0
    lines = result.metrics_path.read_text().splitlines()
    assert len(lines) == 2 and '"loss_teacher"' in lines[0]


def test_resumed_distillation_matches_an_uninterrupted_run(tmp_path, camus_root, tiny_checkpoints):
    import torch

    full = distill_job(camus_root, tmp_path / "full.pt", tiny_checkpoints["sr"], _config(epochs=2))
    distill_job(camus_root, tmp_path / "part.pt", tiny_checkpoints["sr"], _config(epochs=1))
    resumed = distill_job(camus_root, tmp_path / "part.pt", tiny_checkpoints["sr"], _config(epochs=2), resume=True)
    a, _ = load_checkpoint(full.checkpoint)
    b, _ = load_checkpoint(resumed.checkpoint)
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), name


def test_a_teacher_at_another_size_is_refused(tmp_path, camus_root, tiny_checkpoints):
    with pytest.raises(ConfigError, match="distil at the same size"):
        distill_job(camus_root, tmp_path / "s.pt", tiny_checkpoints["sr"], _config(hr_size=64))


def test_unknown_student_is_refused():
    with pytest.raises(ConfigError, match="unknown student"):
        _config(student="vdsr")


def test_cli_distill_prints_the_evaluation(tmp_path, camus_root, tiny_checkpoints):
    result = CliRunner().invoke(
        main,
        ["train", "distill", str(camus_root), "--teacher", str(tiny_checkpoints["sr"]), "--student", "espcn",
         "--out", str(tmp_path / "s.pt"), "--epochs", "1", "--patch", "8"],
    )
    assert result.exit_code == 0, result.output
    assert '"psnr_vs_teacher"' in result.output


def test_cli_distill_builds_the_student_size_and_anchor_asked_for(tmp_path, camus_root, tiny_checkpoints):
    from echosr_edge.models.checkpoint import load_checkpoint

    result = CliRunner().invoke(
        main,
        ["train", "distill", str(camus_root), "--teacher", str(tiny_checkpoints["sr"]), "--student", "rfdn",
         "--features", "8", "--blocks", "1", "--anchor", "--out", str(tmp_path / "r.pt"), "--epochs", "1", "--patch", "8"],
    )
    assert result.exit_code == 0, result.output
    model, meta = load_checkpoint(tmp_path / "r.pt")
    assert meta["config"] == {"scale": 4, "features": 8, "blocks": 1, "anchor": True}
    assert model.anchor and len(model.blocks) == 1
