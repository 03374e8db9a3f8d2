"""A network stream whose server is killed and restarted mid-run: reconnect, log the gap, keep both halves."""

import threading
import time

from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.live import ReconnectPolicy
from echosr_edge.runtime.pipeline import load_pipeline
from echosr_edge.runtime.run import run_source
from echosr_edge.runtime.sources import open_source
from tests.runtime.helpers import frames_of, free_port, read_log


def test_killed_and_restarted_stream_is_reconnected_and_both_halves_are_logged(tmp_path, bundle_dir, mjpeg_servers):
    port = free_port()
    first = mjpeg_servers(port, 90)
    policy = ReconnectPolicy(first_delay_s=0.2, max_delay_s=0.5, give_up_after_s=30, open_timeout_s=2, read_timeout_s=2)
    source = open_source(f"http://127.0.0.1:{port}/stream.mjpg", policy=policy)
    pipeline = load_pipeline(bundle_dir, get_profile("cpu"), precision="fp32")
    counts = {1: 0, 2: 0}
    first_half, disconnected, done = threading.Event(), threading.Event(), threading.Event()
    deadline = time.monotonic() + 90

    def on_frame(record):
        counts[record["connection"]] = counts.get(record["connection"], 0) + 1
        if counts[1] >= 5:
            first_half.set()
        if counts.get(2, 0) >= 5:
            done.set()

    def on_event(event):
        if event.kind == "disconnected":
            disconnected.set()

    def operator():  # kills the server mid-stream, then brings it back on the same port
        if first_half.wait(60):
            first.kill()
            first.wait()
            if disconnected.wait(30):
                mjpeg_servers(port, 170)

    thread = threading.Thread(target=operator, daemon=True)
    thread.start()
    log = tmp_path / "stream.jsonl"
    summary = run_source(
        pipeline, source, log_path=log, on_frame=on_frame, on_event=on_event,
        should_stop=lambda: done.is_set() or time.monotonic() > deadline,
    )
    thread.join(timeout=10)

    records = read_log(log)
    kinds = [r.get("event") for r in records if "event" in r]
    assert kinds == ["disconnected", "reconnected"], kinds
    frames = frames_of(records)
    halves = [r["connection"] for r in frames]
    assert halves.count(1) >= 5 and halves.count(2) >= 5
    assert halves == sorted(halves)  # every frame of the first connection precedes the second's
    gap_at = next(i for i, r in enumerate(records) if r.get("event") == "reconnected")
    assert records[gap_at]["gap_s"] > 0 and records[gap_at - 2]["connection"] == 1 and records[gap_at + 1]["connection"] == 2
    indices = [r["frame"] for r in frames]
    assert indices == sorted(set(indices))  # the frame count runs on across the reconnect
    assert summary.stopped_by == "stopped" and summary.frames == len(frames)
