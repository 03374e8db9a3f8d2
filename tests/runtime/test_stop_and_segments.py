"""Nothing lost on stop: SIGTERM/SIGHUP end a run cleanly (exit 0, sinks closed), recordings are short segments."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.pipeline import load_pipeline
from echosr_edge.runtime.recording import SegmentedRecordSink, segment_list_path, segment_path
from echosr_edge.runtime.run import run_source
from echosr_edge.runtime.signals import StopSignals
from echosr_edge.runtime.sources import open_source
from tests.runtime.helpers import frames_of, read_log


def _frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def _ffprobe_frames(path: Path) -> int | None:
    """Frames ffprobe decodes, or None without ffprobe."""
    if shutil.which("ffprobe") is None:
        return None
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_a_recording_is_written_as_segments_that_together_hold_every_frame(tmp_path, bundle_dir, clip):
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    rec = SegmentedRecordSink(tmp_path / "rec.mp4", fps=25, segment_seconds=0.4, clock=lambda: 0.0)  # 10 frames a segment
    run_source(pipeline, open_source(clip[0]), log_path=tmp_path / "run.jsonl", sinks=[rec])
    assert rec.segments == [segment_path(tmp_path / "rec.mp4", i) for i in range(4)]
    assert [_frame_count(p) for p in rec.segments] == [10, 10, 10, 2]
    listed = segment_list_path(tmp_path / "rec.mp4").read_text().splitlines()
    assert listed == [f"file 'rec_{i:03d}.mp4'" for i in range(4)]


def test_the_run_log_says_where_each_segment_is_and_from_which_frame(tmp_path, bundle_dir, clip):
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    rec = SegmentedRecordSink(tmp_path / "rec.mp4", fps=25, segment_seconds=0.4, clock=lambda: 0.0)
    run_source(pipeline, open_source(clip[0]), log_path=tmp_path / "run.jsonl", sinks=[rec])
    events = [r for r in read_log(tmp_path / "run.jsonl") if r.get("event") == "recording_segment"]
    assert [(e["path"], e["first_frame"]) for e in events] == [(str(p), 10 * i) for i, p in enumerate(rec.segments)]


def test_a_segment_also_closes_after_its_seconds_of_wall_time(tmp_path, bundle_dir, clip):
    now = [0.0]

    def clock():  # each frame takes a second of wall time: a slow pipeline on a live source
        now[0] += 1.0
        return now[0]

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    rec = SegmentedRecordSink(tmp_path / "rec.mp4", fps=25, segment_seconds=2.5, clock=clock)
    run_source(pipeline, open_source(clip[0]), sinks=[rec], max_frames=6)
    assert [_frame_count(p) for p in rec.segments] == [3, 3]


def test_sigterm_and_sighup_become_a_stop_request_and_are_given_back():
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGHUP)
        assert stop() and stop.received == "SIGHUP"
    assert signal.getsignal(signal.SIGTERM) is before


def _long_clip(tmp_path: Path, camus_root: Path, frames: int = 500) -> Path:
    from echosr_edge.data.camus import read_camus

    images = [f.image for f in read_camus(camus_root).frames]
    path = tmp_path / "long.mp4"
    h, w = images[0].shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    for i in range(frames):
        writer.write(cv2.cvtColor(images[i % len(images)], cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def _start_run(tmp_path: Path, bundle_dir: Path, source: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = [sys.executable, "-m", "echosr_edge", "run", "--bundle", str(bundle_dir), "--source", str(source), "--device", "cpu",
            "--headless", "--realtime", "--log", str(tmp_path / "run.jsonl"), "--record", str(tmp_path / "rec.mp4"),
            "--segment-seconds", "1"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_segments(proc: subprocess.Popen, log: Path, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and log.read_text().count('"recording_segment"') >= count:
            return
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the run never opened {count} segments: {proc.communicate()[1][-2000:]}")


def test_sigterm_exits_0_with_every_frame_recorded_and_a_last_stats_line(tmp_path, bundle_dir, camus_root):
    proc = _start_run(tmp_path, bundle_dir, _long_clip(tmp_path, camus_root))
    _wait_for_segments(proc, tmp_path / "run.jsonl", 3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "(SIGTERM)" in out and " fps): p50 " in err
    logged = frames_of(read_log(tmp_path / "run.jsonl"))
    segments = sorted(tmp_path.glob("rec_*.mp4"))
    assert len(segments) >= 3 and sum(_frame_count(p) for p in segments) == len(logged)
    probed = [_ffprobe_frames(p) for p in segments]
    if probed[0] is None:
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg); OpenCV read every frame of every segment")
    assert sum(probed) == len(logged)


def test_kill_9_loses_at_most_the_segment_in_flight(tmp_path, bundle_dir, camus_root):
    proc = _start_run(tmp_path, bundle_dir, _long_clip(tmp_path, camus_root))
    _wait_for_segments(proc, tmp_path / "run.jsonl", 3)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    records = read_log(tmp_path / "run.jsonl")
    events = [r for r in records if r.get("event") == "recording_segment"]
    finished = [Path(e["path"]) for e in events[:-1]]
    assert len(finished) >= 2
    before_last = [r for r in frames_of(records) if r["frame"] < events[-1]["first_frame"]]
    counts = [_frame_count(p) for p in finished]
    assert all(c > 0 for c in counts) and sum(counts) == len(before_last)
    for path in finished:
        probed = _ffprobe_frames(path)
        assert probed is None or probed == _frame_count(path)
