"""The command line: one clear line for errors a user can fix, never a traceback."""

import json

from click.testing import CliRunner

from echosr_edge.cli import main


def test_run_with_a_missing_source_exits_nonzero_with_one_line(tmp_path, bundle_dir):
    result = CliRunner().invoke(main, ["run", "--bundle", str(bundle_dir), "--source", str(tmp_path / "gone.mp4"), "--headless"])
    assert result.exit_code == 1
    assert "source not found" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "Traceback" not in result.output and len(errors) == 1 and "gone.mp4" in errors[0]


def test_run_refuses_a_bundle_with_an_altered_model_naming_the_file(bundle_copy, camus_root):
    target = bundle_copy / "models" / "sr.fp32.onnx"
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    result = CliRunner().invoke(main, ["run", "--bundle", str(bundle_copy), "--source", str(camus_root / "patient0001"),
                                       "--headless", "--precision", "fp32"])
    assert result.exit_code == 1
    assert "models/sr.fp32.onnx does not match its checksum" in result.output
    assert "Traceback" not in result.output


def test_run_hashes_only_the_models_it_loads(bundle_copy, camus_root):
    target = bundle_copy / "models" / "sr.fp32.onnx"  # altered, but an INT8 run never opens it
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    result = CliRunner().invoke(main, ["run", "--bundle", str(bundle_copy), "--source", str(camus_root / "patient0001"),
                                       "--headless", "--precision", "int8"])
    assert result.exit_code == 0, result.output


def test_run_writes_the_log_and_a_latency_summary(tmp_path, bundle_dir, camus_root):
    log = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        main, ["run", "--bundle", str(bundle_dir), "--source", str(camus_root / "patient0003"), "--headless", "--log", str(log)]
    )
    assert result.exit_code == 0, result.output
    assert "4 frames" in result.output and "p50" in result.output
    assert len(log.read_text().splitlines()) == 4


def test_unknown_device_lists_the_known_ones(bundle_dir, camus_root):
    result = CliRunner().invoke(main, ["run", "--bundle", str(bundle_dir), "--source", str(camus_root), "--device", "cpuu"])
    assert result.exit_code == 1 and "Did you mean 'cpu'" in result.output


def test_data_synth_writes_the_patients(tmp_path):
    result = CliRunner().invoke(main, ["data", "synth", str(tmp_path / "d"), "--patients", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["patient0001", "patient0002"]


def test_bench_writes_json_and_markdown(tmp_path, bundle_dir):
    result = CliRunner().invoke(main, ["bench", "--bundle", str(bundle_dir), "--runs", "2", "--warmup", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert "| onnx | fp32 |" in (tmp_path / "bench.md").read_text()
