"""Batch throughput with N worker processes, side by side in one run.

    python benchmarks/batch_workers.py --bundle /tmp/batch-demo/bundle --files 60 --workers 1 2

Writes a synthetic clinic folder once, then runs the whole batch (spawn, process, write the
results and the report) for each worker count, ``--repeats`` times in alternating order, into
fresh output folders. Reports end-to-end wall time and frames/s, the steady rate between the
first and last finished file (which leaves out worker start-up), the ratio of each worker
count to the first, the machine (CPU model, SIMD flags, cores) and the load average, since
other work on the machine shares the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from echosr_edge.runtime.batch import BatchConfig, run_batch
from echosr_edge.runtime.batch_synth import write_clinic_folder
from echosr_edge.runtime.bench import machine_info


def run_once(root: Path, out: Path, bundle: Path, workers: int, precision: str | None) -> dict:
    stamps: list[float] = []
    start = time.perf_counter()
    result = run_batch(
        root, out, BatchConfig(bundle=bundle, workers=workers, precision=precision),
        on_progress=lambda p: stamps.append(time.perf_counter()),
    )
    wall = time.perf_counter() - start
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else float("nan")
    return {
        "workers": workers,
        "files": result.inputs,
        "failed": result.failed,
        "frames": result.frames,
        "wall_s": wall,
        "frames_per_s": result.frames / wall,
        "steady_files_per_s": steady,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--frames", type=int, default=8, help="frames per cine")
    parser.add_argument("--size", type=int, nargs=2, default=(160, 128), metavar=("H", "W"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "int8"])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        root = Path(tmp) / "in"
        write_clinic_folder(root, files=args.files, size=tuple(args.size), cine_frames=args.frames)
        load_before = os.getloadavg()
        runs: list[dict] = []
        for repeat in range(args.repeats):
            order = args.workers if repeat % 2 == 0 else list(reversed(args.workers))
            for workers in order:
                row = run_once(root, Path(tmp) / f"out-{workers}-{repeat}", args.bundle, workers, args.precision)
                runs.append(row)
                print(f"workers {workers}: {row['wall_s']:.2f} s, {row['frames_per_s']:.1f} frames/s, "
                      f"steady {row['steady_files_per_s']:.2f} files/s", flush=True)
        load_after = os.getloadavg()

    summary = {}
    for workers in args.workers:
        mine = [r for r in runs if r["workers"] == workers]
        summary[workers] = {
            "wall_s": statistics.median(r["wall_s"] for r in mine),
            "frames_per_s": statistics.median(r["frames_per_s"] for r in mine),
            "steady_files_per_s": statistics.median(r["steady_files_per_s"] for r in mine),
        }
    base = summary[args.workers[0]]
    m = machine_info()
    print()
    print(f"machine: {m['cpu']}, {m['cores']} cores, SIMD: {' '.join(m['simd']) or 'none detected'}, python {m['python']}")
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(f"{args.files} files, {runs[0]['frames']} frames, {args.size[0]}x{args.size[1]}, bundle {args.bundle}, "
          f"median of {args.repeats}")
    print()
    print("| workers | wall s | frames/s | steady files/s | speed-up (wall) | speed-up (steady) |")
    print("|---|---|---|---|---|---|")
    for workers, s in summary.items():
        print(f"| {workers} | {s['wall_s']:.2f} | {s['frames_per_s']:.1f} | {s['steady_files_per_s']:.2f} | "
              f"{s['frames_per_s'] / base['frames_per_s']:.2f}x | {s['steady_files_per_s'] / base['steady_files_per_s']:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"machine": m, "load": [load_before, load_after], "runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
