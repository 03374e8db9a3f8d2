"""Live delivery keeps only the newest frame, counts the dropped ones, and surfaces source failures."""

import threading
import time

import numpy as np
import pytest

from echosr_edge.errors import SourceError
from echosr_edge.runtime.live import CaptureSource, LatestFrameSource, PacedSource, ReconnectPolicy
from echosr_edge.runtime.sources import open_source
from tests.runtime.helpers import free_port


class BurstSource:
    """Produces ``count`` frames as fast as it can (a camera far faster than the pipeline)."""

    description = "burst"
    live = True

    def __init__(self, count: int):
        self.count = count
        self.produced = 0

    def frames(self):
        for i in range(self.count):
            self.produced += 1
            yield i, i / 1000.0, np.full((4, 4), i % 256, np.uint8)

    def drain_events(self):
        return []


def test_slow_consumer_gets_the_newest_frames_and_every_other_is_counted_dropped():
    inner = BurstSource(300)
    source = LatestFrameSource(inner, heartbeat_s=0.05)
    seen = []
    for item in source.frames():
        if item is None:
            continue
        seen.append(item[0])
        time.sleep(0.002)  # a pipeline slower than the source
    assert seen == sorted(seen) and seen[-1] == 299
    assert source.dropped > 0
    assert len(seen) + source.dropped == inner.produced == 300


def test_an_error_in_the_reader_thread_reaches_the_consumer():
    class Failing(BurstSource):
        def frames(self):
            yield 0, 0.0, np.zeros((4, 4), np.uint8)
            raise SourceError("camera unplugged")

    with pytest.raises(SourceError, match="camera unplugged"):
        list(LatestFrameSource(Failing(1), heartbeat_s=0.05).frames())


def test_waiting_consumer_gets_heartbeats_instead_of_blocking():
    release = threading.Event()

    class Silent(BurstSource):
        def frames(self):
            release.wait(5)
            yield 0, 0.0, np.zeros((4, 4), np.uint8)

    items = []
    for item in LatestFrameSource(Silent(1), heartbeat_s=0.02).frames():
        items.append(item)
        if len(items) == 3:
            release.set()
    assert items[:3] == [None, None, None] and items[-1][0] == 0


def test_realtime_file_source_is_paced_at_its_frame_rate():
    class Clip(BurstSource):
        def frames(self):
            for i in range(5):
                yield i, i * 0.05, np.zeros((4, 4), np.uint8)

    start = time.monotonic()
    indices = [i for i, _, _ in PacedSource(Clip(5)).frames()]
    assert indices == [0, 1, 2, 3, 4] and time.monotonic() - start >= 0.2


def test_camera_index_and_stream_url_open_live_sources_without_connecting():
    assert open_source("0").live and open_source(3).description == "camera 3"
    stream = open_source("rtsp://127.0.0.1:1/live")
    assert stream.live and "rtsp://127.0.0.1:1/live" in stream.description


def test_stream_credentials_never_reach_the_description():
    source = open_source("rtsp://admin:s3cret@10.0.0.5:554/live")
    assert "s3cret" not in source.description and "10.0.0.5:554/live" in source.description


def test_stream_that_cannot_be_opened_fails_at_once_naming_it():
    url = f"http://127.0.0.1:{free_port()}/stream.mjpg"  # nothing listens there
    source = CaptureSource(url, ReconnectPolicy(open_timeout_s=2))
    with pytest.raises(SourceError, match=f"cannot open stream {url}"):
        next(source.frames())


def test_a_stream_that_never_comes_back_is_given_up_after_the_policy(mjpeg_servers):
    port = free_port()
    server = mjpeg_servers(port, 100)
    source = CaptureSource(
        f"http://127.0.0.1:{port}/s", ReconnectPolicy(first_delay_s=0.1, max_delay_s=0.2, give_up_after_s=1.0, read_timeout_s=2)
    )
    frames = source.frames()
    next(frames)
    server.kill()
    server.wait()
    with pytest.raises(SourceError, match="giving up"):
        for _ in frames:
            pass
    kinds = [e.kind for e in source.drain_events()]
    assert kinds == ["disconnected", "gave_up"]


def test_a_stream_that_stalls_is_reopened_and_the_gap_recorded(mjpeg_servers):
    port = free_port()
    mjpeg_servers(port, 100, stall_after=5, lifetime_s=30)
    source = CaptureSource(
        f"http://127.0.0.1:{port}/s", ReconnectPolicy(first_delay_s=0.1, max_delay_s=0.2, give_up_after_s=10, read_timeout_s=1)
    )
    connections = []
    for _index, _, _ in source.frames():
        connections.append(source.connection)
        if connections.count(2) >= 3:
            source.close()
    assert connections.count(1) == 5 and connections.count(2) >= 3
    events = source.drain_events()
    assert [e.kind for e in events] == ["disconnected", "reconnected"]
    assert events[1].gap_s >= 0.9  # at least the read timeout went by without frames
