"""The batch over a folder: partial runs, resuming, settings pinned, privacy, workers."""

import csv
import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from echosr_edge.cli import main
from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.batch import BatchConfig, run_batch
from echosr_edge.runtime.batch_synth import PLANTED_PHI, write_clinic_folder
from echosr_edge.runtime.batch_store import STATE_DIR


def _jsonl(out):
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """Fourteen small scans of every kind, three of them damaged."""
    root = tmp_path_factory.mktemp("clinic") / "in"
    return root, write_clinic_folder(root, files=14, corrupt=3, size=(64, 56), cine_frames=4)


@pytest.fixture(scope="module")
def finished(tmp_path_factory, clinic, bundle_dir):
    """The CLI run over the clinic folder: its output folder and click result."""
    root, _ = clinic
    out = tmp_path_factory.mktemp("batch") / "out"
    result = CliRunner().invoke(main, ["batch", str(root), str(out), "--bundle", str(bundle_dir), "--quiet"])
    return out, result


def test_damaged_files_are_reported_and_the_run_exits_partial(finished, clinic):
    out, result = finished
    _, written = clinic
    assert result.exit_code == 3, result.output
    assert "11 of 14 files processed, 3 failed" in result.output
    records = _jsonl(out)
    assert sorted(r["file"] for r in records) == sorted(w.relative for w in written)
    failed = {r["file"] for r in records if r["status"] == "error"}
    assert failed == {w.relative for w in written if w.corrupt}
    report = (out / "report.html").read_text()
    for name in failed:
        assert name in report
    assert "Failed files (3)" in report


def test_every_frame_gets_a_row_labels_and_an_enhanced_png(finished, bundle_dir):
    out, _ = finished
    ok = [r for r in _jsonl(out) if r["status"] == "ok"]
    frames = _csv(out / "frames.csv")
    assert len(frames) == sum(len(r["frames"]) for r in ok) > len(ok)
    assert {row["view"] for row in frames} <= {"2CH", "4CH"}
    assert {row["quality"] for row in frames} == {"unknown"}  # the test bundle has no quality model
    for row in frames:
        image = cv2.imread(str(out / row["enhanced_image"]), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.dtype == np.uint8
        assert abs(float(row["p_view_2CH"]) + float(row["p_view_4CH"]) - 1.0) < 1e-3
    assert len([p for p in (out / "enhanced").rglob("frame_*.png") if p.is_file()]) == len(frames)


def test_results_csv_has_one_row_per_input_with_its_summary(finished, clinic):
    out, _ = finished
    rows = _csv(out / "results.csv")
    assert len(rows) == 14
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(r["view"] in ("2CH", "4CH") and int(r["frames"]) >= 1 for r in ok)
    assert all(r["error"] for r in rows if r["status"] == "error")


def test_report_is_self_contained_with_before_after_thumbnails(finished):
    report = (finished[0] / "report.html").read_text()
    assert "<img alt='before' src='data:image/png;base64," in report
    assert "<img alt='after' src='data:image/png;base64," in report
    assert "src='http" not in report and "href=" not in report


def test_a_second_run_skips_finished_files_and_retries_the_failed_ones(tmp_path, clinic, bundle_dir):
    root, _ = clinic
    config = BatchConfig(bundle=bundle_dir, include=("day1/*",))
    progress = []
    first = run_batch(root, tmp_path / "out", config, on_progress=progress.append)
    assert [p.done for p in progress] == list(range(first.inputs + 1)) and progress[-1].eta_s == 0.0
    assert progress[0].eta_s is None and all(p.eta_s >= 0 and p.total == first.inputs for p in progress[1:])
    retried = []
    second = run_batch(root, tmp_path / "out", config, on_progress=retried.append)
    assert second.resumed == first.ok == second.ok > 0
    assert second.failed == first.failed == retried[-1].total > 0  # only the failed files were tried again
    assert retried[-1].resumed == first.ok
    assert len(_jsonl(tmp_path / "out")) == first.inputs


def test_an_input_changed_since_its_record_is_processed_again(tmp_path, bundle_dir):
    root = tmp_path / "in"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), np.full((40, 40), 30, np.uint8))
    cv2.imwrite(str(root / "b.png"), np.full((40, 40), 60, np.uint8))
    config = BatchConfig(bundle=bundle_dir)
    run_batch(root, tmp_path / "out", config)
    cv2.imwrite(str(root / "b.png"), np.full((48, 40), 200, np.uint8))
    second = run_batch(root, tmp_path / "out", config)
    assert (second.resumed, second.ok) == (1, 2)


def test_a_rerun_with_other_settings_is_refused(tmp_path, clinic, bundle_dir):
    root, _ = clinic
    run_batch(root, tmp_path / "out", BatchConfig(bundle=bundle_dir, precision="fp32", include=("day2/*.png",)))
    with pytest.raises(EchoSRError, match="other settings.*precisions"):
        run_batch(root, tmp_path / "out", BatchConfig(bundle=bundle_dir, precision="int8", include=("day2/*.png",)))


def test_no_dicom_identifier_reaches_any_output_unless_kept(tmp_path, clinic, bundle_dir):
    pytest.importorskip("pydicom", reason="DICOM inputs need the 'dicom' extra (pydicom)")
    root, written = clinic
    assert any(w.kind.startswith("dicom") and not w.corrupt for w in written)
    secrets = [v.encode() for v in PLANTED_PHI.values()]
    plain = run_batch(root, tmp_path / "plain", BatchConfig(bundle=bundle_dir, include=("*.dcm",)))
    assert plain.ok >= 2
    outputs = [p for p in (tmp_path / "plain").rglob("*") if p.is_file()]
    assert len(outputs) > 5
    for path in outputs:
        data = path.read_bytes()
        assert not any(s in data for s in secrets), f"{path} holds a patient identifier"
    run_batch(root, tmp_path / "kept", BatchConfig(bundle=bundle_dir, include=("*.dcm",), keep_phi=True))
    assert PLANTED_PHI["PatientName"] in (tmp_path / "kept" / "results.jsonl").read_text()


def test_two_workers_give_the_same_results_as_one(tmp_path, clinic, bundle_dir):
    root, _ = clinic
    one = run_batch(root, tmp_path / "one", BatchConfig(bundle=bundle_dir, precision="fp32", include=("day3/*",)))
    two = run_batch(root, tmp_path / "two", BatchConfig(bundle=bundle_dir, precision="fp32", include=("day3/*",), workers=2))
    assert (one.ok, one.failed) == (two.ok, two.failed)
    labels = lambda out: [(r["file"], [f["labels"] for f in r["frames"]]) for r in _jsonl(out)]  # noqa: E731
    assert labels(tmp_path / "one") == labels(tmp_path / "two")


def test_no_inputs_is_an_error_before_any_work(tmp_path, bundle_dir):
    (tmp_path / "in").mkdir()
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--bundle", str(bundle_dir)])
    assert result.exit_code == 1 and "no input files" in result.output
    assert not (tmp_path / "out").exists()


def test_all_inputs_fine_exits_zero(tmp_path, bundle_dir):
    cv2.imwrite(str(tmp_path / "a.png"), np.full((40, 40), 90, np.uint8))
    result = CliRunner().invoke(main, ["batch", str(tmp_path), str(tmp_path / "out"), "--bundle", str(bundle_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / STATE_DIR / "records").is_dir()


def test_progress_bar_prints_a_line_per_tenth_with_the_eta_when_not_a_terminal(capsys):
    from echosr_edge.cli.batch import ProgressBar
    from echosr_edge.runtime.batch import BatchProgress

    bar = ProgressBar()
    for done in range(21):
        bar(BatchProgress(done, 20, 1 if done > 5 else 0, 4, elapsed_s=3.0 * done, last="x"))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("[###") and "2/20 files" in lines[0] and "ETA 00:54" in lines[0]
    assert "20/20 files, 1 failed (4 done earlier)" in lines[-1] and "ETA 00:00" in lines[-1]


def test_batch_with_the_default_auto_device_says_which_ran_and_why(finished):
    out, result = finished
    assert "device cpu: auto:" in result.output  # the bundle is ONNX only: ONNX Runtime, whatever is installed
    assert json.loads((out / STATE_DIR / "run.json").read_text())["device"] == "cpu"  # the profile, not "auto"
