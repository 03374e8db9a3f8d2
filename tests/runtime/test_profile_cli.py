"""`run --profile` and `bench --profile/--frontier` on a bundle with a default and a realtime profile."""

import json

from click.testing import CliRunner

from echosr_edge.cli import main
from tests.runtime.helpers import frames_of, read_log


def _model_bytes(bundle, profile: str) -> int:
    from echosr_edge.bundle.manifest import Manifest

    manifest = Manifest.load(bundle).for_profile(profile)
    return sum(m.artifact("onnx", "fp32").size for m in manifest.models)


def test_run_with_the_realtime_profile_loads_the_student_and_the_fast_classifier(tmp_path, profile_bundle, clip):
    path, count = clip
    log = tmp_path / "rt.jsonl"
    result = CliRunner().invoke(main, ["run", "--bundle", str(profile_bundle), "--profile", "realtime", "--device", "cpu",
                                       "--source", str(path), "--headless", "--log", str(log)])
    assert result.exit_code == 0, result.output
    assert "profile realtime: espcn onnx/fp32, view_16 onnx/fp32" in result.output
    records = frames_of(read_log(log))
    # Results are keyed by task whichever profile ran.
    assert len(records) == count and all(r["enhanced"] and set(r["labels"]) == {"view"} for r in records)


def test_run_with_the_default_profile_loads_the_teacher(tmp_path, profile_bundle, clip):
    path, _ = clip
    result = CliRunner().invoke(main, ["run", "--bundle", str(profile_bundle), "--device", "cpu", "--source", str(path),
                                       "--headless", "--max-frames", "2"])
    assert result.exit_code == 0, result.output
    assert "profile default: sr onnx/fp32, view onnx/fp32" in result.output


def test_an_unknown_profile_is_one_line_naming_the_known_ones(profile_bundle, clip):
    path, _ = clip
    result = CliRunner().invoke(main, ["run", "--bundle", str(profile_bundle), "--profile", "fast", "--device", "cpu",
                                       "--source", str(path), "--headless"])
    assert result.exit_code == 1
    assert "no profile 'fast' (it has: default, realtime)" in result.output


def test_bench_with_a_profile_benches_that_profiles_models(tmp_path, profile_bundle):
    result = CliRunner().invoke(main, ["bench", "--bundle", str(profile_bundle), "--profile", "realtime", "--device", "cpu",
                                       "--runs", "2", "--warmup", "0", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "r" / "bench.json").read_text())["rows"]
    assert rows and set(rows[0]["accuracy"]) <= {"view"}
    assert rows[0]["model_bytes"] == _model_bytes(profile_bundle, "realtime") != _model_bytes(profile_bundle, "default")


def test_bench_frontier_writes_its_table_and_says_which_interval(tmp_path, profile_bundle, frontier_root):
    result = CliRunner().invoke(main, ["bench", "--frontier", "--bundle", str(profile_bundle), "--data", str(frontier_root),
                                       "--device", "cpu", "--runs", "2", "--warmup", "0", "--poor-frames", "all",
                                       "--test-fraction", "0.5", "--out", str(tmp_path / "f")])
    assert result.exit_code == 0, result.output
    assert "Wilson score interval" in result.output and "bicubic" in result.output
    assert json.loads((tmp_path / "f" / "frontier.json").read_text())["classifier_profile"] == "realtime"


def test_bench_frontier_without_data_says_what_it_needs(profile_bundle):
    result = CliRunner().invoke(main, ["bench", "--frontier", "--bundle", str(profile_bundle), "--device", "cpu"])
    assert result.exit_code == 2 and "--frontier needs --data ROOT" in result.output


def test_batch_with_the_realtime_profile_runs_the_student(tmp_path, profile_bundle):
    from echosr_edge.data.synth_clinic import write_clinic_folder

    root = tmp_path / "in"
    write_clinic_folder(root, files=2, corrupt=0, size=(64, 56), cine_frames=2)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["batch", str(root), str(out), "--bundle", str(profile_bundle), "--profile", "realtime",
                                       "--quiet"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    frames = [f for r in records for f in r["frames"]]
    assert frames and all(f["labels"]["view"] in ("2CH", "4CH") for f in frames)
    from echosr_edge.batch.store import STATE_DIR

    settings = json.loads((out / STATE_DIR / "run.json").read_text())
    assert settings["profile"] == "realtime" and set(settings["precisions"]) == {"espcn", "view_16"}
