"""Benchmark: read a 500-patient (2,000-frame) synthetic CAMUS tree, either release.

The issue's target: under 30 s on 2 cores. The tree is generated once into --cache (default
a temporary folder) and reused when it is already there. Reading is timed with one reader
thread and with the default thread count side by side, in one run, pinned to --cores cores.

    PYTHONPATH=. python benchmarks/bench_read_camus.py --release 2023 --release 2019 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from echosr_edge.bench.runner import machine_info
from echosr_edge.data.camus import default_workers, read_camus
from echosr_edge.data.synth_tree import write_synthetic_camus

TARGET_S = 30.0


def _tree(cache: Path, release: str, patients: int, size: tuple[int, int]) -> Path:
    root = cache / f"camus{release}_{patients}" if size == (320, 256) else cache / f"camus{release}_{patients}_{size[0]}x{size[1]}"
    marker = root / ".complete"
    if not marker.exists():
        start = time.perf_counter()
        write_synthetic_camus(root, patients=patients, seed=0, size=size, release=release, full_release=True)
        marker.write_text("")
        print(f"generated {patients} patients ({release}) in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return root


def _time_read(root: Path, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    tree = read_camus(root, strict=True, workers=workers)
    return time.perf_counter() - start, len(tree.frames)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--release", action="append", choices=["2019", "2023"], help="Release(s) to read (default 2023).")
    parser.add_argument("--patients", type=int, default=500)
    parser.add_argument("--size", default="320x256", help="Frame size HxW (real CAMUS frames are about 778x549).")
    parser.add_argument("--cores", type=int, default=2, help="Pin the process to this many cores (Linux).")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "echosr_bench_camus")
    parser.add_argument("--json", type=Path, help="Write the results as JSON here.")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, cores)
    results = {"machine": machine_info(), "cores_used": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
               "patients": args.patients, "size": args.size, "target_s": TARGET_S, "rows": []}
    ok = True
    for release in args.release or ["2023"]:
        size = tuple(int(v) for v in args.size.split("x"))
        root = _tree(args.cache, release, args.patients, size)
        _time_read(root, default_workers())  # warm the page cache, as a second read would be
        row = {"release": release, "size": args.size}
        for label, workers in (("1 thread", 1), (f"{default_workers()} threads", default_workers())):
            seconds, frames = _time_read(root, workers)
            row[label] = {"seconds": round(seconds, 2), "frames": frames, "frames_per_s": round(frames / seconds, 1)}
        single, multi = (row[k]["seconds"] for k in list(row)[2:])
        row["speedup"] = round(single / multi, 2)
        row["meets_target"] = multi < TARGET_S and row[list(row)[3]]["frames"] == 4 * args.patients
        ok &= row["meets_target"]
        results["rows"].append(row)
        print(json.dumps(row))
    print(json.dumps(results["machine"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
