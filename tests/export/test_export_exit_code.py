"""export exits 4 naming the model when a model ends with no artifact within budget; --allow-degraded exits 0 and says so."""

from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.export.bundle_writer import ExportRow
from echosr_edge.export.outcome import EXIT_NO_ARTIFACT_WITHIN_BUDGET, check_outcome, models_without_budget


def _export(tmp_path, checkpoint, camus_root, *extra):
    args = ["export", str(checkpoint), "--calibration", str(camus_root), "--out", str(tmp_path / "b"),
            "--precision", "int8", "--min-psnr", "500", "--calibration-frames", "8", "--verification-frames", "4", *extra]
    return CliRunner().invoke(main, args)


def test_a_budget_no_int8_artifact_can_meet_exits_4_naming_the_model(tmp_path, tiny_checkpoints, camus_root):
    result = _export(tmp_path, tiny_checkpoints["sr"], camus_root)
    assert result.exit_code == EXIT_NO_ARTIFACT_WITHIN_BUDGET == 4, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: no artifact within budget for model(s) sr:") and "over budget (left out)" in last


def test_allow_degraded_exits_0_and_names_the_models_kept_degraded(tmp_path, tiny_checkpoints, camus_root):
    result = _export(tmp_path, tiny_checkpoints["sr"], camus_root, "--allow-degraded")
    assert result.exit_code == 0, result.output
    assert "kept degraded (no artifact within budget, --allow-degraded): sr" in result.output


def _row(model, precision, status):
    return ExportRow(model, "onnx", precision, status, 1.0, "-", 1.0)


def test_a_model_with_one_passing_artifact_is_within_budget():
    rows = [_row("sr", "fp32", "ok"), _row("sr", "int8", "over budget (left out)")]
    assert models_without_budget(rows) == {} and check_outcome(rows, allow_degraded=False) == []


def test_allow_degraded_does_not_excuse_a_model_with_nothing_kept():
    import pytest

    from echosr_edge.export.outcome import NoArtifactWithinBudget

    rows = [_row("sr", "int8", "degraded (kept)"), _row("view", "int8", "failed: boom")]
    with pytest.raises(NoArtifactWithinBudget) as caught:
        check_outcome(rows, allow_degraded=True)
    assert list(caught.value.models) == ["view"]
