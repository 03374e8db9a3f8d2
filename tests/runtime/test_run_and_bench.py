"""`run` logs one JSON line per frame; `bench` compares INT8 with FP32 on the same frames."""

import json
import os
import platform

import cv2
import numpy as np
import pytest

from echosr_edge.devices.profiles import get_profile
from echosr_edge.errors import SourceError
from echosr_edge.runtime.bench import bench_bundle, report_markdown, write_report
from echosr_edge.runtime.pipeline import load_pipeline
from echosr_edge.runtime.run import run_source
from echosr_edge.runtime.sources import open_source


@pytest.fixture()
def video(tmp_path, bundle_dir):
    frames = np.load(bundle_dir / "verification" / "frames.npy")
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, frames.shape[1:][::-1])
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path, len(frames)


def test_run_logs_every_frame_of_a_video(tmp_path, bundle_dir, video):
    path, count = video
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"), precision="int8")
    summary = run_source(pipeline, open_source(path), log_path=tmp_path / "run.jsonl")
    records = [json.loads(l) for l in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert summary.frames == count == len(records)
    assert [r["frame"] for r in records] == list(range(count))
    assert {"labels", "probabilities", "ms", "enhanced"} <= set(records[0])
    assert records[0]["labels"]["view"] in ("2CH", "4CH")


def test_nifti_folder_is_a_source(camus_root):
    source = open_source(camus_root / "patient0001")
    assert len(list(source.frames())) == 4


def test_image_folder_is_a_source(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), np.full((20, 20), i * 50, np.uint8))
    frames = [f for _, _, f in open_source(tmp_path).frames()]
    assert [int(f.mean()) for f in frames] == [0, 50, 100]


def test_missing_source_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="source not found"):
        open_source(tmp_path / "nothing.mp4")


def test_bench_reports_fp32_and_int8_with_fidelity_against_fp32(tmp_path, bundle_dir):
    report = bench_bundle(bundle_dir, get_profile("cpu"), runs=3, warmup=1)
    fp32, int8 = report.rows
    assert (fp32.precision, int8.precision) == ("fp32", "int8")
    assert fp32.sr_psnr_vs_fp32 is None and int8.sr_psnr_vs_fp32 > 20
    assert 0.0 <= int8.agreement_vs_fp32["view"] <= 1.0
    assert int8.stages["total"].p95 >= int8.stages["total"].p50 > 0
    assert report.machine["cores"] == os.cpu_count() and report.machine["python"] == platform.python_version()
    json_path, md_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["rows"][1]["precision"] == "int8"
    assert "| onnx | int8 |" in report_markdown(report)


def test_bench_sets_each_stage_against_its_engine_alone_and_a_measured_ceiling(tmp_path, bundle_dir):
    from echosr_edge.runtime.bench import format_table

    report = bench_bundle(bundle_dir, get_profile("cpu"), runs=3, warmup=1, precisions=("int8",))
    row = report.rows[0]
    assert row.ceiling["gmacs"] > 0 and "INT8 (QDQ)" in row.ceiling["workload"]
    stages = {s["stage"]: s for s in row.limits}
    assert set(stages) == {"sr", "classify_view"}
    assert all(s["alone_p50_ms"] > 0 and s["pipeline_over_alone"] > 0 for s in stages.values())
    assert stages["sr"]["gmacs"] > 0 and stages["sr"]["pct_of_ceiling"] > 0  # the manifest's MACs over the stage's p50
    json_path, md_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["rows"][0]["limits"][0]["stage"] == "sr"
    assert "## Stages against the machine's limit" in md_path.read_text()
    assert "% of ceiling" in format_table(report).splitlines()[0]
