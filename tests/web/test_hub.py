"""LiveHub: the newest frame only, encoded lazily and once, controls that reach the pipeline."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import weakref

import cv2
import numpy as np
import pytest

from echosr_edge.errors import EchoSRError
from echosr_edge.web import LiveHub
from echosr_edge.web import hub as hub_module
from echosr_edge.web.frames import pack_frame, unpack_frame


def frame_pair(i: int, size: int = 48):
    original = np.full((size, size + 8), i % 256, np.uint8)
    enhanced = np.full((size, size), (i % 256) / 255.0, np.float32)
    return original, enhanced


def record(i: int, total_ms: float = 10.0, **extra) -> dict:
    return {
        "frame": i,
        "enhanced": True,
        "labels": {"view": "4CH"},
        "probabilities": {"view": {"2CH": 0.25, "4CH": 0.75}},
        "ms": {"total": total_ms},
        **extra,
    }


def publish(hub: LiveHub, i: int, **extra) -> None:
    hub.publish(*frame_pair(i), record(i, **extra))


def test_a_client_gets_the_newest_frame_and_its_record():
    hub = LiveHub()
    for i in range(3):
        publish(hub, i)
    frame = hub.encoded_frame()
    header, original, enhanced = unpack_frame(frame.payload)
    assert frame.seq == 3 and header["seq"] == 3
    assert header["record"]["frame"] == 2
    assert cv2.imdecode(np.frombuffer(original, np.uint8), cv2.IMREAD_GRAYSCALE).shape == (48, 56)
    assert cv2.imdecode(np.frombuffer(enhanced, np.uint8), cv2.IMREAD_GRAYSCALE).shape == (48, 48)


def test_nothing_is_encoded_while_no_client_asks():
    hub = LiveHub()
    for i in range(50):
        publish(hub, i)
    assert hub.encodes == 0
    assert hub.stats().frames == 50


def test_each_frame_is_encoded_once_however_many_clients_ask():
    hub = LiveHub()
    publish(hub, 0)
    first = [hub.encoded_frame() for _ in range(3)]
    publish(hub, 1)
    second = [hub.encoded_frame() for _ in range(3)]
    assert hub.encodes == 2
    assert all(f is first[0] for f in first) and all(f is second[0] for f in second)


def test_published_frames_are_released_once_a_newer_one_arrives():
    hub = LiveHub()
    original, enhanced = frame_pair(0)
    refs = (weakref.ref(original), weakref.ref(enhanced))
    hub.publish(original, enhanced, record(0))
    hub.encoded_frame()
    del original, enhanced
    for i in range(1, 200):
        publish(hub, i)
    gc.collect()
    assert all(r() is None for r in refs)


def test_publish_never_waits_for_an_encode(monkeypatch):
    hub = LiveHub()
    publish(hub, 0)
    encoding, release = threading.Event(), threading.Event()

    def slow_jpeg(image, quality=85):
        encoding.set()
        assert release.wait(10)
        return b"jpeg"

    monkeypatch.setattr(hub_module, "jpeg", slow_jpeg)
    encoder = threading.Thread(target=hub.encoded_frame)
    encoder.start()
    assert encoding.wait(10)
    for i in range(1, 20):  # would deadlock here if publish took the encoder's lock
        publish(hub, i)
    assert hub.seq == 20 and encoder.is_alive()
    release.set()
    encoder.join(10)


def test_a_frozen_view_keeps_its_frame_while_the_statistics_advance():
    hub = LiveHub()
    publish(hub, 0)
    hub.set_frozen(True)
    for i in range(1, 6):
        publish(hub, i)
    header, _, _ = unpack_frame(hub.encoded_frame().payload)
    assert hub.frozen and header["record"]["frame"] == 0
    assert hub.stats().frames == 6
    hub.set_frozen(False)
    publish(hub, 6)
    assert unpack_frame(hub.encoded_frame().payload)[0]["record"]["frame"] == 6


def test_a_frame_after_a_stall_sets_the_status_back_to_live_but_not_after_a_stop():
    hub = LiveHub()
    assert hub.state()["status"] == "starting"
    publish(hub, 0)
    hub.set_status("stalled", "no frame for 2 s")
    assert hub.state()["message"] == "no frame for 2 s"
    publish(hub, 1)
    assert hub.state()["status"] == "live"
    hub.set_status("stopped", "the pipeline failed")
    publish(hub, 2)
    assert hub.state()["status"] == "stopped"


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status must be one of"):
        LiveHub().set_status("sleeping")


def test_the_enhancement_mode_reaches_the_registered_callback():
    hub = LiveHub(enhance_mode="auto")
    seen = []
    hub.on_enhance_mode(seen.append)
    version = hub.version
    assert hub.set_enhance_mode("never") == "never"
    assert seen == ["never"] and hub.enhance_mode == "never" and hub.version > version


def test_a_mode_the_callback_refuses_is_not_taken():
    hub = LiveHub(enhance_mode="always")

    def refuse(mode):
        raise EchoSRError("this bundle has no quality model, so 'auto' is unavailable")

    hub.on_enhance_mode(refuse)
    with pytest.raises(EchoSRError, match="no quality model"):
        hub.set_enhance_mode("auto")
    assert hub.enhance_mode == "always"


def test_a_mode_change_without_a_listening_pipeline_is_refused():
    with pytest.raises(EchoSRError, match="does not accept enhancement changes"):
        LiveHub().set_enhance_mode("never")


def test_a_mode_the_run_does_not_offer_is_a_value_error():
    hub = LiveHub(enhance_modes=("always", "never"))
    hub.on_enhance_mode(lambda mode: None)
    with pytest.raises(ValueError, match="always, never"):
        hub.set_enhance_mode("auto")


def test_snapshot_saves_the_shown_pair_with_its_record(tmp_path):
    hub = LiveHub(snapshot_dir=tmp_path / "run")
    publish(hub, 7)
    hub.set_frozen(True)
    publish(hub, 8)
    shot = hub.snapshot()
    assert shot.record.name.startswith("snapshot-000007-")
    assert json.loads(shot.record.read_text()) == record(7)
    assert cv2.imread(str(shot.original), cv2.IMREAD_UNCHANGED).shape == (48, 56)
    enhanced = cv2.imread(str(shot.enhanced), cv2.IMREAD_UNCHANGED)
    assert enhanced.shape == (48, 48) and int(enhanced[0, 0]) == 7
    assert hub.snapshot().record != shot.record  # a second one never overwrites the first


def test_snapshot_before_any_frame_or_without_a_folder_is_refused(tmp_path):
    with pytest.raises(EchoSRError, match="no frame to save yet"):
        LiveHub(snapshot_dir=tmp_path).snapshot()
    hub = LiveHub()
    publish(hub, 0)
    with pytest.raises(EchoSRError, match="snapshots are off"):
        hub.snapshot()


def test_statistics_give_frame_rate_latency_percentiles_and_dropped_frames():
    now = [0.0]
    hub = LiveHub(clock=lambda: now[0])
    for i in range(21):
        now[0] = i * 0.05  # 20 fps
        publish(hub, i, total_ms=float(i), dropped=i // 10)
    stats = hub.stats()
    assert stats.fps == pytest.approx(20.0)
    assert stats.p50_ms == pytest.approx(10.0) and stats.p95_ms == pytest.approx(19.0)
    assert stats.dropped == 2
    now[0] += 10.0
    assert hub.stats().fps == 0.0  # a stalled source shows 0 fps, not the last rate


def test_colour_and_float_frames_are_shown_and_oversized_ones_shrunk():
    hub = LiveHub(max_side=64)
    colour = np.zeros((240, 320, 3), np.uint8)
    hub.publish(colour, np.random.default_rng(0).random((32, 32), dtype=np.float32), record(0))
    _, original, enhanced = unpack_frame(hub.encoded_frame().payload)
    assert cv2.imdecode(np.frombuffer(original, np.uint8), cv2.IMREAD_UNCHANGED).shape == (48, 64, 3)
    assert cv2.imdecode(np.frombuffer(enhanced, np.uint8), cv2.IMREAD_UNCHANGED).shape == (32, 32)


def test_a_record_with_nan_or_numpy_values_still_travels_as_strict_json():
    payload = pack_frame(1, {"x": float("nan"), "n": np.int64(3), "p": np.float32(0.5)}, {}, b"a", b"bc")
    header, a, b = unpack_frame(payload)
    assert header["record"] == {"x": None, "n": 3, "p": 0.5}
    assert (a, b) == (b"a", b"bc")


def test_the_hub_needs_no_web_library_and_no_torch():
    code = """
import sys
sys.modules['aiohttp'] = None
import numpy as np
from echosr_edge.web import LiveHub, serve
from echosr_edge.errors import MissingExtra
hub = LiveHub()
hub.publish(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.float32), {"frame": 0})
assert hub.encoded_frame().seq == 1
try:
    serve(hub)
except MissingExtra as exc:
    print(exc)
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf'))
print(heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    message, heavy = out.stdout.strip().splitlines()
    assert 'pip install "echosr-edge[web]"' in message
    assert heavy == "[]"


def test_the_server_module_imports_no_torch():
    code = "import sys, echosr_edge.web.server; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf')))"
    pytest.importorskip("aiohttp", reason="the server needs the 'web' extra (aiohttp)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
