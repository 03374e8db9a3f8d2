"""Overlapped stages on a live local MJPEG stream: throughput and latency against the serial pipeline.

usage: python benchmarks/overlap_must_show.py --bundle B [--profile default] [--device auto]
           [--seconds 30] [--warmup-s 5] [--fps 30] [--serial-threads N] [--overlap-threads N/2]
           [--modes off,on] [--out overlap.json]

Starts tests/runtime/mjpeg_server.py (synthetic sector frames at --fps) and runs
`echosr-edge run --source http://127.0.0.1:PORT/ --headless --log ...` for --seconds twice: serial
(`--overlap off`, --serial-threads engine threads, default all cores) and overlapped
(`--overlap on`, --overlap-threads each, default half the cores, so both stages have their own).
From each log, after --warmup-s: frames per second, p50 latency (frame taken from the source →
result, `latency_ms`), frames dropped, and the labels' agreement is not compared (the live
frames differ between runs; tests/runtime/test_cli_run.py checks identical results on a file).
`--modes off` runs the serial pipeline only: whether a profile keeps up with the stream
(`dropped_after_warmup` 0), e.g. `--profile realtime`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.runtime.helpers import free_port, start_mjpeg_server  # noqa: E402


def one_run(args, port: int, overlap: str, threads: int, log: Path) -> dict:
    cmd = [sys.executable, "-m", "echosr_edge", "run", "--bundle", str(args.bundle), "--device", args.device,
           "--profile", args.profile, "--source", f"http://127.0.0.1:{port}/stream.mjpg", "--headless",
           "--log", str(log), "--overlap", overlap, "--threads", str(threads)]
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    deadline = time.monotonic() + args.seconds + 60  # start-up (compile, check) is not part of the window
    while time.monotonic() < deadline:
        records = _frames(log)
        if records and records[-1]["wall_time"] - records[0]["wall_time"] >= args.seconds:
            break
        time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)  # run stops after the frame in flight; SIGINT is ignored by a background job's children
    output = proc.communicate(timeout=60)[0]
    logged = _frames(log)
    records = [r for r in logged if r["wall_time"] - logged[0]["wall_time"] >= args.warmup_s]
    span = records[-1]["wall_time"] - records[0]["wall_time"]
    return {
        "overlap": overlap, "threads": threads, "frames_after_warmup": len(records),
        "fps": (len(records) - 1) / span if span > 0 else float("nan"),
        "latency_p50_ms": float(np.median([r["latency_ms"] for r in records])),
        "compute_p50_ms": float(np.median([r["ms"]["total"] for r in records])),
        "dropped_after_warmup": records[-1]["dropped"] - records[0]["dropped"],
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "said": [line for line in output.splitlines() if line.startswith(("device", "overlapped"))],
    }


def _frames(log: Path) -> list[dict]:
    if not log.is_file():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r for r in rows if "frame" in r and "latency_ms" in r]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=5.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--serial-threads", type=int, default=os.cpu_count())
    parser.add_argument("--overlap-threads", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--modes", default="off,on", help="which runs: off (serial), on (overlapped), or both")
    parser.add_argument("--out", type=Path, default=Path("overlap_must_show.json"))
    args = parser.parse_args()

    runs = []
    modes = args.modes.split(",")
    for overlap, threads in (("off", args.serial_threads), ("on", args.overlap_threads)):
        if overlap not in modes:
            continue
        port = free_port()
        server = start_mjpeg_server(port, 150, fps=args.fps, lifetime_s=args.seconds + 120)
        try:
            runs.append(one_run(args, port, overlap, threads, args.out.with_suffix(f".{overlap}.jsonl")))
        finally:
            server.kill()
            server.wait()
    summary = {"profile": args.profile, "stream_fps": args.fps, "seconds": args.seconds, "runs": runs}
    if len(runs) == 2:
        serial, overlapped = runs
        summary["fps_ratio_overlap_over_serial"] = overlapped["fps"] / serial["fps"]
        summary["latency_ratio_overlap_over_serial"] = overlapped["latency_p50_ms"] / serial["latency_p50_ms"]
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
