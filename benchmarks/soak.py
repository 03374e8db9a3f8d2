"""Soak: the live pipeline on a local network stream with injected faults, for many frames.

    nice -n 10 python benchmarks/soak.py --frames 10000 --out soak.json [--bundle BUNDLE]

A local MJPEG-over-HTTP server (a child process, so that it can really be killed) streams
synthetic sector frames. Faults are injected on a fixed schedule:

- corrupt frames: every ``--corrupt-every``-th frame served is damaged JPEG bytes (random
  bytes, a truncated JPEG, or a JPEG with its scan data scrambled) with a correct
  Content-Length, as a flaky capture card produces;
- stalls: every ``--stall-every``-th frame the connection goes silent for ``--stall-s``
  seconds (longer than the read timeout, so the source must notice and reconnect);
- disconnects: every ``--kill-every`` processed frames the server process is killed
  (SIGKILL) and restarted on the same port ``--down-s`` seconds later;
- a slow sink: every ``--slow-every``-th frame the sink takes ``--slow-ms`` ms, so the
  newest-frame source must drop frames rather than fall behind.

The run goes through ``echosr_edge.runtime.run.run_source`` with the JSON-lines log, as
``echosr-edge run`` does. The report: frames served, corrupt frames served, processed, in the
log (counted by reading it back: every processed frame must be there), dropped, undecodable
frames skipped (errors), disconnects and reconnects, warnings/errors logged, whether the run
crashed, and RSS at the start, the end, and the mean over the first and last 1,000 processed
frames.

Without ``--bundle`` a tiny bundle is built first (a 1-block SRResNet and a view ResNet-18
trained one short epoch on synthetic CAMUS frames, exported to ONNX FP32; needs torch): the
soak tests robustness, not model cost.
"""

from __future__ import annotations

import argparse
import json
import logging
import mmap
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Server counters, shared through a memory-mapped file that survives the server being killed.
_COUNTERS = ("served", "corrupt", "stalls", "connections")
_COUNTER_BYTES = 8 * len(_COUNTERS)
_WINDOW = 1000  # frames at each end over which RSS is averaged


@dataclass(frozen=True)
class Faults:
    """The fault schedule (0 turns a fault off)."""

    corrupt_every: int = 97
    stall_every: int = 2500
    stall_s: float = 2.5
    kill_every: int = 3000
    down_s: float = 1.0
    slow_every: int = 50
    slow_ms: float = 40.0


@dataclass
class SoakReport:
    """What the soak measured; ``ok`` when nothing crashed, no record was lost and RSS grew < 5%."""

    frames_target: int
    served: int = 0
    corrupt_served: int = 0
    stalls_injected: int = 0
    server_kills: int = 0
    server_connections: int = 0
    processed: int = 0
    logged_frames: int = 0
    log_indices_increasing: bool = False
    dropped: int = 0
    bad_frames_skipped: int = 0  # undecodable frames the source skipped on an open connection
    disconnects: int = 0
    reconnects: int = 0
    warnings_logged: int = 0
    errors_logged: int = 0
    crashed: bool = False
    crash: str = ""
    stopped_by: str = ""
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_first_window_mb: float = 0.0
    rss_last_window_mb: float = 0.0
    rss_growth_pct: float = 0.0
    wall_s: float = 0.0
    processed_fps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    faults: dict = field(default_factory=dict)
    log_path: str = ""

    @property
    def no_lost_record(self) -> bool:
        return self.logged_frames == self.processed and self.log_indices_increasing

    @property
    def ok(self) -> bool:
        return not self.crashed and self.no_lost_record and self.processed >= self.frames_target and self.rss_growth_pct < 5.0


# ---- the server (runs as `python soak.py --serve PORT COUNTERS ...`) -------------------------


def _frames(count: int = 32) -> list[bytes]:
    import cv2
    import numpy as np

    out = []
    for index in range(count):
        image = np.zeros((96, 80), np.uint8)
        cv2.ellipse(image, (40, 0), (90, 90), 90, -37, 37, 90 + 3 * index, -1)  # a fan from the apex
        cv2.circle(image, (40, 40 + index), 6, 220, -1)
        out.append(cv2.imencode(".jpg", image)[1].tobytes())
    return out


def _corrupt(good: bytes, n: int) -> bytes:
    """Damaged JPEG bytes, three kinds in turn."""
    rng = __import__("random").Random(n)
    kind = n % 3
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(len(good)))
    if kind == 1:
        return good[: len(good) // 2]
    data = bytearray(good)
    for i in range(len(data) // 2, len(data) - 2, 7):  # scramble the entropy-coded scan
        data[i] = rng.getrandbits(8)
    return bytes(data)


def _serve(port: int, counters_path: Path, fps: float, corrupt_every: int, stall_every: int, stall_s: float) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with open(counters_path, "r+b") as fh:
        shared = mmap.mmap(fh.fileno(), _COUNTER_BYTES)
    lock = threading.Lock()
    frames = _frames()

    def bump(name: str) -> int:
        at = 8 * _COUNTERS.index(name)
        with lock:
            (value,) = struct.unpack_from("q", shared, at)
            struct.pack_into("q", shared, at, value + 1)
        return value + 1

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            bump("connections")
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            period = 1.0 / fps
            next_at = time.monotonic()
            try:
                while True:
                    with lock:
                        n = struct.unpack_from("q", shared, 0)[0] + 1
                    data = frames[n % len(frames)]
                    if corrupt_every and n % corrupt_every == 0:
                        data = _corrupt(data, n)
                        bump("corrupt")
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data))
                    self.wfile.write(data + b"\r\n")
                    self.wfile.flush()
                    served = bump("served")
                    if stall_every and served % stall_every == 0:
                        bump("stalls")
                        time.sleep(stall_s)  # connected but silent
                        return  # then drop the connection, as a capture box that hung and recovered
                    next_at += period
                    time.sleep(max(0.0, next_at - time.monotonic()))
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


class _Server:
    """Starts, kills (SIGKILL) and restarts the server process on one port."""

    def __init__(self, port: int, counters: Path, fps: float, faults: Faults):
        self.port, self.counters, self.fps, self.faults = port, counters, fps, faults
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        f = self.faults
        cmd = [sys.executable, __file__, "--serve", str(self.port), str(self.counters), str(self.fps),
               str(f.corrupt_every), str(f.stall_every), str(f.stall_s)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"soak server did not start: {self.proc.stderr.read()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def read_counters(self) -> dict[str, int]:
        raw = self.counters.read_bytes()[:_COUNTER_BYTES]
        return dict(zip(_COUNTERS, struct.unpack("q" * len(_COUNTERS), raw)))


# ---- the client side -----------------------------------------------------------------------


class SlowSink:
    """A sink that is slow now and then (a disk or a display that hiccups)."""

    def __init__(self, every: int, ms: float):
        self.every, self.seconds, self.frames = every, ms / 1000.0, 0

    def frame(self, record, original, result) -> bool:
        self.frames += 1
        if self.every and self.frames % self.every == 0:
            time.sleep(self.seconds)
        return True

    def event(self, record) -> None:
        pass

    def close(self) -> None:
        pass


class _LogCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.warnings = self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.errors += 1
        else:
            self.warnings += 1


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_bundle(workdir: Path) -> Path:
    """A small ONNX FP32 bundle from tiny checkpoints trained on synthetic CAMUS frames (needs torch)."""
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.synth import write_synthetic_camus
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import classifier_job, sr_job
    from echosr_edge.train.sr import SRTrainConfig

    camus = write_synthetic_camus(workdir / "camus", patients=8, seed=1, size=(96, 80))
    sr = sr_job(camus, workdir / "sr.pt", SRTrainConfig(hr_size=32, features=8, blocks=1, epochs=1, patch_lr=8, lr=1e-3))
    view = classifier_job(camus, workdir / "view.pt", ClassifierTrainConfig(task="view", input_size=32, epochs=1), hr_size=32)
    frames = read_camus(camus).frames
    out = workdir / "bundle"
    export_bundle({"sr": sr.checkpoint, "view": view.checkpoint}, calibration=None, verification=frames, out=out,
                  config=ExportConfig(precisions=("fp32",), verification_count=8, allow_degraded=True))
    return out


def run_soak(
    bundle: Path,
    frames: int,
    workdir: Path,
    faults: Faults = Faults(),
    fps: float = 150.0,
    precision: str | None = None,
    max_seconds: float | None = None,
    on_progress=None,
) -> SoakReport:
    """Run the live pipeline on the faulty local stream until ``frames`` frames are processed."""
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.live import ReconnectPolicy
    from echosr_edge.runtime.session import open_session
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.sources import open_source

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    report = SoakReport(frames_target=frames, faults=asdict(faults))
    counters = workdir / "server-counters.bin"
    counters.write_bytes(bytes(_COUNTER_BYTES))
    port = _free_port()
    server = _Server(port, counters, fps, faults)
    log_path = workdir / "soak.jsonl"
    report.log_path = str(log_path)
    counter = _LogCounter()
    product_log = logging.getLogger("echosr_edge")
    level = product_log.level
    product_log.setLevel(logging.WARNING)  # so warnings are made (and counted) whatever the root level
    product_log.addHandler(counter)
    rss: list[float] = []
    kill_due = threading.Event()
    finished = threading.Event()

    def operator() -> None:  # kills the server when asked, restarts it after the outage
        while not finished.is_set():
            if kill_due.wait(0.2):
                kill_due.clear()
                server.kill()
                if finished.wait(faults.down_s):
                    return
                server.start()

    def on_frame(record: dict) -> None:
        rss.append(_rss_mb())
        n = len(rss)
        if faults.kill_every and n % faults.kill_every == 0:
            kill_due.set()
        if on_progress and n % 1000 == 0:
            on_progress(n, report)

    server.start()
    thread = threading.Thread(target=operator, name="soak operator", daemon=True)
    thread.start()
    report.rss_start_mb = round(_rss_mb(), 1)
    started = time.monotonic()
    try:
        pipeline = open_session(bundle, get_profile("cpu"), precision=precision, enhance="always", crop=False, startup_check=False).pipeline
        policy = ReconnectPolicy(first_delay_s=0.1, max_delay_s=1.0, give_up_after_s=60.0, open_timeout_s=2.0, read_timeout_s=1.0)
        source = open_source(f"http://127.0.0.1:{port}/stream.mjpg", policy=policy)
        deadline = started + max_seconds if max_seconds else None
        summary = run_source(
            pipeline, source, log_path=log_path, max_frames=frames, on_frame=on_frame,
            sinks=[SlowSink(faults.slow_every, faults.slow_ms)],
            should_stop=(lambda: time.monotonic() > deadline) if deadline else None,
        )
        report.stopped_by = summary.stopped_by
        report.processed = summary.frames
        report.dropped = summary.dropped
        report.bad_frames_skipped = source.bad_frames
        report.p50_ms, report.p95_ms = round(summary.p50_ms, 3), round(summary.p95_ms, 3)
    except Exception as exc:  # the soak's purpose is to report a crash, not to die of it
        report.crashed = True
        report.crash = f"{type(exc).__name__}: {exc}"
        report.processed = len(rss)
    finally:
        finished.set()
        thread.join(timeout=15)
        server.stop()
        product_log.removeHandler(counter)
        product_log.setLevel(level)
    report.wall_s = round(time.monotonic() - started, 1)
    report.rss_end_mb = round(_rss_mb(), 1)
    served = server.read_counters()
    report.served, report.corrupt_served = served["served"], served["corrupt"]
    report.stalls_injected, report.server_connections = served["stalls"], served["connections"]
    report.server_kills = server.kills
    report.warnings_logged, report.errors_logged = counter.warnings, counter.errors
    records = [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.is_file() else []
    frame_records = [r for r in records if "event" not in r]
    indices = [r["frame"] for r in frame_records]
    report.logged_frames = len(frame_records)
    report.log_indices_increasing = all(a < b for a, b in zip(indices, indices[1:]))
    report.disconnects = sum(r.get("event") == "disconnected" for r in records)
    report.reconnects = sum(r.get("event") == "reconnected" for r in records)
    report.processed_fps = round(report.processed / max(report.wall_s, 1e-9), 1)
    if rss:
        window = min(_WINDOW, max(1, len(rss) // 2))
        first, last = sum(rss[:window]) / window, sum(rss[-window:]) / window
        report.rss_first_window_mb, report.rss_last_window_mb = round(first, 1), round(last, 1)
        report.rss_growth_pct = round(100.0 * (last - first) / first, 2)
    return report


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        port, counters, fps, corrupt_every, stall_every, stall_s = sys.argv[2:8]
        _serve(int(port), Path(counters), float(fps), int(corrupt_every), int(stall_every), float(stall_s))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--build-bundle":
        print(tiny_bundle(Path(sys.argv[2])))
        return
    defaults = Faults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10000, help="processed frames to reach")
    parser.add_argument("--bundle", type=Path, help="bundle to run (default: build a tiny one; needs torch)")
    parser.add_argument("--precision", help="artifact precision (default: the device profile's choice)")
    parser.add_argument("--fps", type=float, default=150.0, help="frames per second the server offers")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    parser.add_argument("--workdir", type=Path, help="keep the log and the built bundle here (default: a temp folder)")
    parser.add_argument("--max-seconds", type=float, help="stop after this long even if --frames is not reached")
    for name, value in asdict(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args()
    faults = Faults(**{k: getattr(args, k) for k in asdict(defaults)})
    shown = logging.StreamHandler()  # errors on stderr; warnings (every outage) are only counted
    shown.setLevel(logging.ERROR)
    logging.basicConfig(handlers=[shown], format="%(levelname)s %(name)s: %(message)s")

    from echosr_edge.runtime.bench import machine_info

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        bundle = args.bundle
        if bundle is None:
            print("building a tiny bundle (1-block SRResNet, view ResNet-18, ONNX FP32)…", file=sys.stderr, flush=True)
            # In a child process: torch stays out of the soak's memory, as on a device.
            built = subprocess.run([sys.executable, __file__, "--build-bundle", str(workdir / "tiny")],
                                   capture_output=True, text=True, check=True)
            bundle = Path(built.stdout.strip().splitlines()[-1])

        def progress(n: int, _report) -> None:
            print(f"  {n} frames processed, RSS {_rss_mb():.1f} MB", file=sys.stderr, flush=True)

        report = run_soak(bundle, args.frames, workdir / "soak", faults, args.fps, args.precision, args.max_seconds, progress)
        doc = {**asdict(report), "no_lost_record": report.no_lost_record, "ok": report.ok, "machine": machine_info(), "bundle": str(bundle)}
        text = json.dumps(doc, indent=1)
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
