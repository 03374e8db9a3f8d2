"""A short soak: the live pipeline survives corrupt frames, stalls, a killed server and a slow sink,
and every processed frame is in the JSON-lines log (benchmarks/soak.py runs the long one)."""

import importlib.util
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


@pytest.fixture(scope="module")
def soak():
    spec = importlib.util.spec_from_file_location("echosr_soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_short_soak_with_every_fault_loses_no_record_and_reconnects(tmp_path, bundle_dir, soak):
    faults = soak.Faults(corrupt_every=13, stall_every=150, stall_s=1.5, kill_every=120, down_s=0.5, slow_every=20, slow_ms=30.0)
    report = soak.run_soak(bundle_dir, 300, tmp_path, faults, fps=200.0, precision="fp32", max_seconds=90)
    assert not report.crashed, report.crash
    assert report.stopped_by == "max_frames"
    assert report.processed == 300 and report.logged_frames == 300 and report.log_indices_increasing
    assert report.corrupt_served >= 10 and report.stalls_injected >= 1 and report.server_kills >= 2
    assert report.reconnects >= report.server_kills  # every kill, and every stall, ends in a reconnect
    assert report.dropped > 0  # the slow sink made the newest-frame source drop, not queue
    assert report.served >= report.processed + report.dropped
