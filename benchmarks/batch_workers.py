"""Batch throughput with N worker processes, side by side in one run.

    python benchmarks/batch_workers.py --bundle /tmp/batch-demo/bundle --files 24 --configs 1 2 1x2

Writes a synthetic clinic folder once, then runs the whole batch (spawn, process, write the
results and the report) for each configuration, ``--repeats`` times in alternating order, into
fresh output folders. A configuration is ``W`` (W workers of one engine thread, the CLI's
default) or ``WxT`` (W workers of T engine threads each).

Reports end-to-end wall time and frames/s, the steady rate between the first and last
finished file (which leaves out worker start-up), the CPU time spent, the ratio of each
configuration to the first, the machine (CPU model, SIMD flags, cores) and the load average,
since other work on the machine shares the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from echosr_edge.batch.runner import BatchConfig, run_batch
from echosr_edge.bench.runner import machine_info
from echosr_edge.data.synth_clinic import write_clinic_folder


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children (the workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def parse_config(text: str) -> tuple[int, int | None]:
    """'2' → (2 workers, 1 thread each); '1x2' → (1 worker, 2 threads)."""
    workers, _, threads = text.partition("x")
    return int(workers), int(threads) if threads else 1


def run_once(root: Path, out: Path, bundle: Path, config: str, precision: str | None) -> dict:
    workers, threads = parse_config(config)
    stamps: list[float] = []
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    result = run_batch(
        root, out, BatchConfig(bundle=bundle, workers=workers, threads=threads, precision=precision),
        on_progress=lambda p: stamps.append(time.perf_counter()),
    )
    wall = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else float("nan")
    return {
        "config": config,
        "workers": workers,
        "threads": threads,
        "files": result.inputs,
        "failed": result.failed,
        "frames": result.frames,
        "wall_s": wall,
        "frames_per_s": result.frames / wall,
        "steady_files_per_s": steady,
        "cpu_s": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--frames", type=int, default=8, help="frames per cine")
    parser.add_argument("--size", type=int, nargs=2, default=(160, 128), metavar=("H", "W"))
    parser.add_argument("--configs", nargs="+", default=["1", "2"], help="W or WxT (workers x threads each)")
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
            order = args.configs if repeat % 2 == 0 else list(reversed(args.configs))
            for config in order:
                row = run_once(root, Path(tmp) / f"out-{config}-{repeat}", args.bundle, config, args.precision)
                runs.append(row)
                print(f"workers {config}: {row['wall_s']:.2f} s, {row['frames_per_s']:.2f} frames/s, "
                      f"steady {row['steady_files_per_s']:.2f} files/s, CPU {row['cpu_s']:.1f} s", flush=True)
        load_after = os.getloadavg()

    summary = {}
    for config in args.configs:
        mine = [r for r in runs if r["config"] == config]
        summary[config] = {
            "wall_s": statistics.median(r["wall_s"] for r in mine),
            "frames_per_s": statistics.median(r["frames_per_s"] for r in mine),
            "steady_files_per_s": statistics.median(r["steady_files_per_s"] for r in mine),
            "cpu_s": statistics.median(r["cpu_s"] for r in mine),
        }
    base = summary[args.configs[0]]
    m = machine_info()
    print()
    print(f"machine: {m['cpu']}, {m['cores']} cores, SIMD: {' '.join(m['simd']) or 'none detected'}, python {m['python']}")
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(f"{args.files} files, {runs[0]['frames']} frames, {args.size[0]}x{args.size[1]}, bundle {args.bundle}, "
          f"median of {args.repeats}")
    print()
    print("| workers (xthreads) | wall s | CPU s | frames/s | steady files/s | speed-up (wall) | speed-up (steady) |")
    print("|---|---|---|---|---|---|---|")
    for config, s in summary.items():
        print(f"| {config} | {s['wall_s']:.2f} | {s['cpu_s']:.1f} | {s['frames_per_s']:.2f} | {s['steady_files_per_s']:.2f} | "
              f"{s['frames_per_s'] / base['frames_per_s']:.2f}x | {s['steady_files_per_s'] / base['steady_files_per_s']:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"machine": m, "load": [load_before, load_after], "runs": runs, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
