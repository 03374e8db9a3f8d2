"""A corrupt JPEG in an MJPEG stream is skipped on the open connection, not taken for an outage."""

import importlib.util
import sys
from pathlib import Path

from echosr_edge.runtime.live import CaptureSource, ReconnectPolicy

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _soak_module():
    spec = importlib.util.spec_from_file_location("echosr_soak_server", SOAK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_corrupt_frames_are_skipped_without_a_reconnect(tmp_path):
    soak = _soak_module()
    counters = tmp_path / "counters.bin"
    counters.write_bytes(bytes(64))
    port = soak._free_port()
    server = soak._Server(port, counters, 100.0, soak.Faults(corrupt_every=5, stall_every=0))
    server.start()
    try:
        source = CaptureSource(f"http://127.0.0.1:{port}/s.mjpg", ReconnectPolicy(first_delay_s=0.1, read_timeout_s=2))
        received = 0
        for _ in source.frames():
            received += 1
            if received >= 120:
                source.close()
    finally:
        server.stop()
    served = server.read_counters()
    assert served["corrupt"] >= 20
    assert source.bad_frames > 0  # some corrupt frames fail to decode: those are skipped…
    assert source.drain_events() == [] and source.connection == 1  # …on the one connection
    assert served["connections"] == 1
