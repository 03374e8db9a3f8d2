"""The run loop logs every frame with drops and stage times, reports latency, records, and stops on request."""

import cv2
import numpy as np

from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.display import compose_view, overlay_lines
from echosr_edge.runtime.pipeline import load_pipeline
from echosr_edge.runtime.run import run_source
from echosr_edge.runtime.sinks import RecordSink
from echosr_edge.runtime.sources import open_source
from tests.runtime.helpers import read_log


def test_every_frame_of_a_file_is_logged_with_the_fields_a_clinic_needs(tmp_path, bundle_dir, clip):
    path, count = clip
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    summary = run_source(pipeline, open_source(path), log_path=tmp_path / "a.jsonl")
    records = read_log(tmp_path / "a.jsonl")
    assert [r["frame"] for r in records] == list(range(count)) and summary.frames == count
    first = records[0]
    assert {"frame", "timestamp", "quality", "enhanced", "labels", "probabilities", "ms", "dropped", "wall_time"} <= set(first)
    assert first["dropped"] == 0 and first["enhanced"] is True
    assert {"preprocess", "sr", "classify", "total"} <= set(first["ms"])
    assert summary.stopped_by == "end" and summary.dropped == 0


def test_latency_percentiles_are_reported_through_the_callback(bundle_dir, clip):
    reports = []
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    run_source(pipeline, open_source(clip[0]), on_stats=reports.append, stats_every_s=0.0)
    assert reports and sum(r.frames for r in reports) == clip[1]
    assert all(0 < r.p50_ms <= r.p95_ms for r in reports)
    assert "sr" in reports[-1].stages_p50_ms


def test_max_frames_and_should_stop_end_the_run(bundle_dir, clip):
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    assert run_source(pipeline, open_source(clip[0]), max_frames=3).frames == 3
    seen = []
    summary = run_source(pipeline, open_source(clip[0]), on_frame=seen.append, should_stop=lambda: len(seen) >= 2)
    assert summary.frames == 2 and summary.stopped_by == "stopped"


def test_realtime_file_run_drops_frames_it_cannot_keep_up_with(bundle_dir, tmp_path):
    frames = np.load(bundle_dir / "verification/frames.npy")
    path = tmp_path / "fast.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 500, frames.shape[1:][::-1])
    for _ in range(10):
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()

    class SlowPipeline:
        def __init__(self, inner):
            self.inner = inner

        def process(self, frame):
            import time

            time.sleep(0.02)  # 50 fps at best, against a 500 fps recording
            return self.inner.process(frame)

    source = open_source(path, realtime=True)
    summary = run_source(SlowPipeline(load_pipeline(bundle_dir, get_profile("cpu"))), source)
    assert summary.dropped > 0 and summary.frames + summary.dropped == 80


def test_a_sink_asking_to_stop_ends_the_run(bundle_dir, clip):
    class QuitAfterOne:
        closed = False

        def frame(self, record, original, result):
            return False

        def event(self, record):
            pass

        def close(self):
            QuitAfterOne.closed = True

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    summary = run_source(pipeline, open_source(clip[0]), sinks=[QuitAfterOne()])
    assert summary.frames == 1 and summary.stopped_by == "user" and QuitAfterOne.closed


def test_recording_holds_one_side_by_side_picture_per_frame(tmp_path, bundle_dir, clip):
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    out = tmp_path / "out.mp4"
    run_source(pipeline, open_source(clip[0]), sinks=[RecordSink(out, fps=25)], max_frames=6)
    cap = cv2.VideoCapture(str(out))
    count, width = 0, None
    while True:
        ok, picture = cap.read()
        if not ok:
            break
        count, width = count + 1, picture.shape[1]
    assert count == 6 and width == 2 * 384 + 4


def test_view_shows_labels_confidence_enhancement_and_fps(bundle_dir):
    frame = np.load(bundle_dir / "verification/frames.npy")[0]
    result = load_pipeline(bundle_dir, get_profile("cpu")).process(frame)
    lines = overlay_lines(result, fps=12.5)
    assert lines[0].startswith(f"view: {result.labels['view']} ") and lines[0].endswith("%")
    assert "enhanced (SR)" in lines and any(line.startswith("12.5 fps") for line in lines)
    assert compose_view(frame, result, mode="original").shape == (384, 384, 3)
    labelled = compose_view(frame, result, labels=True)
    plain = compose_view(frame, result, labels=False)
    assert labelled.shape == plain.shape and not np.array_equal(labelled, plain)
