"""`echosr-edge run`: the same labels on intel-cpu and cpu, clear refusals, headless when there is no display."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from echosr_edge.cli import main
from tests.runtime.helpers import frames_of, read_log


def _run(*args: str):
    return CliRunner().invoke(main, ["run", *args])


def test_intel_cpu_and_cpu_log_every_frame_with_the_same_labels(tmp_path, openvino_bundle, clip):
    """At FP32: the tiny test classifier is barely trained (probabilities within 0.49–0.51), so INT8
    rounding alone flips its labels on either backend. benchmarks/runtime_must_show.py compares the
    devices' default INT8 artifacts on the trained demo bundle."""
    path, count = clip
    labels = {}
    for device in ("intel-cpu", "cpu"):
        log = tmp_path / f"{device}.jsonl"
        result = _run(
            "--bundle", str(openvino_bundle), "--device", device, "--precision", "fp32",
            "--source", str(path), "--headless", "--log", str(log),
        )
        assert result.exit_code == 0, result.output
        records = frames_of(read_log(log))
        assert [r["frame"] for r in records] == list(range(count))
        labels[device] = [r["labels"] for r in records]
    agree = sum(a == b for a, b in zip(labels["intel-cpu"], labels["cpu"])) / count
    assert agree >= 0.99, f"labels agree on {agree:.1%} of frames"


def test_jetson_without_tensorrt_exits_naming_what_is_missing_without_a_traceback(tmp_path, bundle_dir):
    try:
        import tensorrt  # noqa: F401

        pytest.skip("TensorRT is installed here")
    except ImportError:
        pass
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-m", "echosr_edge", "run", "--device", "jetson", "--camera", "0", "--bundle", str(bundle_dir)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    assert "device 'jetson' cannot run on this machine" in out.stderr
    assert "'tensorrt' package" in out.stderr and 'pip install "echosr-edge[jetson]"' in out.stderr
    assert out.stderr.count("\n") == 1  # one line


def test_strict_refuses_a_bundle_whose_engines_miss_their_references(bundle_copy, clip):
    from tests.runtime.test_checks import _corrupt_reference

    _corrupt_reference(bundle_copy)
    args = ["--bundle", str(bundle_copy), "--device", "cpu", "--precision", "fp32", "--source", str(clip[0]), "--headless", "--max-frames", "1"]
    warned = _run(*args)
    assert warned.exit_code == 0 and "warning: start-up check: view" in warned.output
    refused = _run(*args, "--strict")
    assert refused.exit_code == 1 and "start-up check failed (--strict)" in refused.output


def test_run_needs_exactly_one_of_source_and_camera(bundle_dir, clip):
    assert _run("--bundle", str(bundle_dir)).exit_code == 2
    assert _run("--bundle", str(bundle_dir), "--camera", "0", "--source", str(clip[0])).exit_code == 2


def test_without_a_display_the_run_goes_headless_and_says_so(bundle_dir, clip, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = _run("--bundle", str(bundle_dir), "--device", "cpu", "--source", str(clip[0]), "--max-frames", "2")
    assert result.exit_code == 0, result.output
    assert "running headless" in result.output and "2 frames from video clip.mp4" in result.output


def test_dla_needs_a_tensorrt_device(bundle_dir, clip):
    result = _run("--bundle", str(bundle_dir), "--device", "cpu", "--source", str(clip[0]), "--dla", "0")
    assert result.exit_code == 2 and "--dla needs a TensorRT device" in result.output


def test_overlapped_run_logs_the_same_labels_and_says_it_was_asked_for(tmp_path, bundle_dir, clip):
    path, count = clip
    labels = {}
    for overlap in ("off", "on"):
        log = tmp_path / f"{overlap}.jsonl"
        result = _run("--bundle", str(bundle_dir), "--device", "cpu", "--source", str(path), "--headless",
                      "--log", str(log), "--overlap", overlap)
        assert result.exit_code == 0, result.output
        labels[overlap] = [(r["labels"], r["probabilities"]) for r in frames_of(read_log(log))]
    assert "overlapped stages on: asked for with --overlap on" in result.output
    assert "stages overlapped" in result.output and "fps, latency p50" in result.output
    assert len(labels["on"]) == count and labels["on"] == labels["off"]


def test_auto_device_says_what_it_chose_and_why(tmp_path, bundle_dir, clip):
    result = _run("--bundle", str(bundle_dir), "--source", str(clip[0]), "--headless", "--max-frames", "1")
    assert result.exit_code == 0, result.output
    assert "device cpu: auto:" in result.output  # an ONNX-only bundle: ONNX Runtime, with the reason
