"""Knowing when not to answer: the pipeline refuses frames that are not a cardiac view or too
uncertain, and every sink and report says so.

Fake engines stand in for the models so each refusal has a known cause: the 'cardiac' gate
calls dark frames 'other' (score +5 above a threshold of 0), the view model is 4CH at 80 %.
"""

import csv

import numpy as np
import pytest

from echosr_edge.batch.inputs import InputFile
from echosr_edge.batch.process import NO_ANSWER, process_input
from echosr_edge.batch.report import write_outputs
from echosr_edge.batch.store import RecordStore
from echosr_edge.data.nifti import write_nifti
from echosr_edge.runtime.display import overlay_lines
from echosr_edge.runtime.pipeline import LOW_CONFIDENCE, NOT_CARDIAC, CardiacGate, Classifier, Pipeline
from echosr_edge.runtime.run import result_record
from tests.runtime.test_pipeline import FakeEngine

HR = 32




def _logits(p_first: float, n: int) -> np.ndarray:
    return np.tile(np.log([p_first, 1.0 - p_first]), (n, 1))


def dark_is_other(x):
    """'cardiac'/'other' logits: margin other − cardiac is +5 for a dark frame, −5 otherwise."""
    dark = x.mean(axis=(1, 2, 3)) < 0.1
    return np.stack([np.where(dark, 0.0, 5.0), np.where(dark, 5.0, 0.0)], axis=-1)


def pipeline(view_p: float = 0.2, min_confidence: float | None = 0.6, temperature: float = 1.0,
             abstain: bool = True, gate: bool = True) -> Pipeline:
    view = Classifier("view", FakeEngine(lambda x: _logits(view_p, len(x))), ("2CH", "4CH"), HR, temperature, min_confidence)
    cardiac = CardiacGate(Classifier("cardiac", FakeEngine(dark_is_other), ("cardiac", "other"), HR), 0.0) if gate else None
    return Pipeline(HR, 4, None, [view], enhance="never", cardiac=cardiac, abstain=abstain)


BRIGHT = np.full((40, 40), 150, np.uint8)
DARK = np.full((40, 40), 5, np.uint8)


def test_a_cardiac_frame_with_a_confident_view_is_answered():
    result = pipeline().process(BRIGHT)
    assert result.accepted and result.abstain_reason is None
    assert result.labels == {"view": "4CH"} and result.ood_score == pytest.approx(-5.0)


def test_a_frame_the_gate_scores_above_the_threshold_is_not_a_cardiac_view_and_has_no_labels():
    result = pipeline().process(DARK)
    assert not result.accepted and result.abstain_reason == NOT_CARDIAC
    assert result.labels == {"view": None}
    assert result.probabilities["view"]["4CH"] == pytest.approx(0.8)  # still reported, for the audit trail


def test_a_calibrated_top_probability_below_the_minimum_is_low_confidence():
    result = pipeline(view_p=0.45).process(BRIGHT)
    assert result.abstain_reason == LOW_CONFIDENCE and result.labels == {"view": None}


def test_without_a_minimum_confidence_an_unsure_cardiac_frame_is_answered():
    # A bundle whose held-out set was too small to place the threshold (min_confidence null).
    result = pipeline(view_p=0.45, min_confidence=None).process(BRIGHT)
    assert result.accepted and result.labels == {"view": "4CH"}


def test_the_temperature_softens_the_reported_probabilities():
    sharp = pipeline(min_confidence=None).process(BRIGHT).probabilities["view"]["4CH"]
    soft = pipeline(min_confidence=None, temperature=4.0).process(BRIGHT).probabilities["view"]["4CH"]
    assert sharp == pytest.approx(0.8) and 0.5 < soft < sharp


def test_a_soft_temperature_can_turn_a_confident_frame_into_low_confidence():
    assert pipeline(temperature=4.0).process(BRIGHT).abstain_reason == LOW_CONFIDENCE


def test_abstain_off_answers_every_frame_and_still_reports_the_score():
    result = pipeline(abstain=False).process(DARK)
    assert result.accepted and result.labels == {"view": "4CH"} and result.ood_score == pytest.approx(5.0)


def test_without_a_gate_only_low_confidence_refuses():
    assert pipeline(gate=False).process(DARK).accepted


def test_the_run_log_record_says_accepted_why_not_and_the_score():
    record = result_record(3, 0.1, pipeline().process(DARK))
    assert record["accepted"] is False and record["abstain_reason"] == "not a cardiac view"
    assert record["labels"] == {"view": None} and record["ood_score"] == 5.0


def test_the_window_overlay_shows_no_answer_instead_of_a_label():
    lines = overlay_lines(pipeline().process(DARK), None)
    assert lines[0] == "no answer - not a cardiac view"
    assert not any(line.startswith("view:") for line in lines)


def _cine(tmp_path, name: str, values: list[int]) -> InputFile:
    frames = np.stack([np.full((48, 48), v, np.uint8) for v in values])
    path = tmp_path / "scans" / name
    path.parent.mkdir(exist_ok=True)
    write_nifti(path, frames, (0.3, 0.3))
    return InputFile(path, f"scans/{name}", "nifti")


def test_batch_frames_carry_accepted_and_the_file_view_ignores_refused_frames(tmp_path):
    record = process_input(pipeline(), _cine(tmp_path, "mixed.nii.gz", [150, 5, 150, 5, 5]), tmp_path / "out")
    assert [f["accepted"] for f in record["frames"]] == [True, False, True, False, False]
    assert record["frames"][1]["labels"]["view"] is None
    summary = record["summary"]
    assert summary["abstained"] == 3 and summary["abstain_reasons"] == {"not a cardiac view": 3}
    assert summary["view"] == "4CH" and summary["view_share"] == 1.0


def test_a_file_with_every_frame_refused_has_no_view(tmp_path):
    record = process_input(pipeline(), _cine(tmp_path, "eye.nii.gz", [5, 5, 5]), tmp_path / "out")
    assert record["summary"]["view"] == NO_ANSWER and record["summary"]["view_share"] is None


def test_batch_outputs_count_and_list_abstentions_per_file(tmp_path):
    out = tmp_path / "out"
    store = RecordStore(out)
    inputs = [_cine(tmp_path, "heart.nii.gz", [150, 150]), _cine(tmp_path, "eye.nii.gz", [5, 5, 5])]
    for inp in inputs:
        store.save(process_input(pipeline(), inp, out, write_images=False))
    totals, paths = write_outputs(out, [i.relative for i in inputs], store, {"tasks": {"view": ["2CH", "4CH"]}})
    assert totals.abstained == 3 and totals.abstain_reasons == {"not a cardiac view": 3}
    report = paths.report_html.read_text()
    assert "Abstentions (3 of 5 frames)" in report and "scans/eye.nii.gz" in report
    with open(paths.frames_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["accepted"], r["abstain_reason"]) for r in rows] == [
        ("scans/heart.nii.gz", "True", ""), ("scans/heart.nii.gz", "True", ""),
        *[("scans/eye.nii.gz", "False", "not a cardiac view")] * 3]
    files_csv = paths.results_csv.read_text()
    assert "not a cardiac view: 3" in files_csv and "no answer" in files_csv


def test_bench_reports_coverage_and_selective_accuracy_beside_plain_accuracy():
    from echosr_edge.bench.report import report_table
    from echosr_edge.bench.runner import BenchRow, _fidelity
    p = pipeline()
    outputs = [p.process(f) for f in (BRIGHT, BRIGHT, DARK, DARK)]  # all say 4CH; the dark two are refused
    row = BenchRow("onnx", "int8", "cpu", "ok")
    hr = np.stack([o.enhanced for o in outputs])
    _fidelity(row, outputs, None, hr, {"view": ["4CH", "4CH", "2CH", "2CH"]})
    assert row.coverage == 0.5
    assert row.accuracy["view"] == 0.5 and row.selective_accuracy["view"] == 1.0
    header = report_table(type("R", (), {"rows": [row]})())[0]
    assert header.index("coverage") == header.index("accuracy") + 1



@pytest.mark.parametrize("command", ["run", "batch"])
def test_run_and_batch_offer_abstain_on_by_default(command):
    from click.testing import CliRunner

    from echosr_edge.cli import main

    text = CliRunner().invoke(main, [command, "--help"]).output
    assert "--abstain [on|off]" in text and "default: on" in text.split("--abstain", 1)[1][:300]
