"""echosr-edge export: conflicting flags refused with a message; TensorRT absent is said, not fatal."""

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main


def _run(*args):
    return CliRunner().invoke(main, ["export", *map(str, args)])


def test_int8_without_calibration_is_refused(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--verification", camus_root, "--out", tmp_path / "b")
    assert result.exit_code == 2 and "INT8 needs calibration data" in result.output


def test_tensorrt_options_without_the_tensorrt_target_are_refused(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--calibration", camus_root, "--out", tmp_path / "b", "--workspace", "2", "--dla", "0")
    assert result.exit_code == 2 and "--workspace, --dla only apply to the tensorrt target" in result.output


def test_accuracy_control_needs_openvino_int8(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--calibration", camus_root, "--out", tmp_path / "b", "--accuracy-control")
    assert result.exit_code == 2 and "add openvino to --targets" in result.output


def test_max_drop_without_accuracy_control_is_refused(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--calibration", camus_root, "--out", tmp_path / "b", "--max-drop-db", "0.2")
    assert result.exit_code == 2 and "set the budget of --accuracy-control" in result.output


def test_unknown_target_is_refused(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--calibration", camus_root, "--out", tmp_path / "b", "--targets", "onnx,coreml")
    assert result.exit_code == 2 and "onnx, openvino, tensorrt" in result.output


def test_empty_calibration_folder_is_one_clear_line(tmp_path, tiny_checkpoints):
    (tmp_path / "empty").mkdir()
    result = _run(tiny_checkpoints["sr"], "--calibration", tmp_path / "empty", "--out", tmp_path / "b")
    assert result.exit_code == 1 and "empty" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_wrongly_shaped_calibration_stack_is_one_clear_line(tmp_path, tiny_checkpoints, camus_root):
    import numpy as np

    np.save(tmp_path / "rgb.npy", np.zeros((8, 64, 64, 3), np.uint8))
    result = _run(tiny_checkpoints["sr"], "--calibration", tmp_path / "rgb.npy", "--verification", camus_root, "--out", tmp_path / "b")
    assert result.exit_code == 1 and "rgb.npy: a calibration stack must be N×H×W grey frames" in result.output


def test_tensorrt_without_a_gpu_is_said_and_onnx_still_exports(tmp_path, tiny_checkpoints, camus_root):
    from echosr_edge.export.tensorrt_export import unavailable_reason

    if unavailable_reason() is None:
        pytest.skip("tensorrt and a GPU are present: the TensorRT stage runs (tests/export/test_tensorrt.py)")
    out = tmp_path / "b"
    result = _run(
        tiny_checkpoints["sr"], "--calibration", camus_root, "--out", out, "--targets", "onnx,tensorrt",
        "--precision", "fp32", "--verification-frames", "4",
    )
    assert result.exit_code == 0, result.output
    assert "the TensorRT stage needs the tensorrt package" in result.output and "NVIDIA GPU" in result.output
    assert (out / "models" / "sr.fp32.onnx").is_file() and not list((out / "models").glob("*.engine"))
    assert "skipped:" in result.output and "ok" in result.output


def test_export_table_lists_every_artifact_with_its_metric_and_float_layers(openvino_bundle):
    from echosr_edge.cli.export import format_export_table

    _, _, rows = openvino_bundle
    lines = format_export_table(rows).splitlines()
    assert lines[0].split()[:4] == ["model", "target", "precision", "status"] and "ms/frame" in lines[0]
    body = [line.split()[:4] for line in lines[2:]]
    assert body == [["sr", t, p, "ok"] for t in ("onnx", "openvino") for p in ("fp32", "int8")]
    assert "PSNR" in lines[3] and "/head/head.0/Conv, /upsample/upsample.0/conv/Conv, /tail/Conv" in lines[3]
    assert "/tail/Conv/WithoutBiases" in lines[5]


def test_a_realtime_export_without_a_student_is_one_clear_line(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], tiny_checkpoints["view"], "--verification", camus_root, "--precision", "fp32",
                  "--profile", "realtime", "--out", tmp_path / "b")
    assert result.exit_code == 1
    assert "needs a distilled student" in result.output and "--student-checkpoint" in result.output
    assert not (tmp_path / "b").exists()


def test_student_options_without_the_realtime_profile_are_refused(tmp_path, tiny_checkpoints, camus_root):
    result = _run(tiny_checkpoints["sr"], "--verification", camus_root, "--precision", "fp32", "--realtime-input-size", "16",
                  "--out", tmp_path / "b")
    assert result.exit_code == 2 and "add --profile realtime" in result.output
