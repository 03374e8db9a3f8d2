"""Side by side in one process: PyTorch eager FP32, ONNX Runtime FP32/INT8, OpenVINO FP32/INT8 on
the same frames, end to end; then OpenVINO's own benchmark_app on the same IRs and thread count,
against the runtime's OpenVINO adapter timed the same way. Writes JSON with every ratio.

    python benchmarks/bench_backends.py --bundle demo-out/bundle --torch-checkpoints demo-out/checkpoints \
        --threads 2 --runs 50 --out bench-out
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from echosr_edge.bench.report import format_table, write_report
from echosr_edge.bench.runner import bench_bundle, machine_info
from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.devices.detect import detect_devices
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.engine import open_artifact, run_single


def benchmark_app(xml: Path, shape: tuple[int, ...], threads: int, seconds: int) -> float | None:
    """Median latency (ms) that OpenVINO's benchmark_app reports for ``xml`` (one stream, sync, batch 1)."""
    exe = shutil.which("benchmark_app") or str(Path(sys.executable).parent / "benchmark_app")
    if not Path(exe).exists():
        return None
    # benchmark_app takes -nthreads only with -hint none; one stream, one synchronous request is
    # what the LATENCY hint and the runtime's batch-1 calls amount to.
    cmd = [exe, "-m", str(xml), "-d", "CPU", "-hint", "none", "-nstreams", "1", "-nthreads", str(threads),
           "-api", "sync", "-t", str(seconds),
           "-data_shape", "[" + ",".join(map(str, shape)) + "]", "-infer_precision", "f32"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    match = re.search(r"Median:\s+([\d.]+) ms", out)
    return float(match.group(1)) if match else None


def adapter_median(bundle: Path, art, device, shape: tuple[int, ...], seconds: float) -> float:
    """Median latency (ms) of the runtime's adapter on the same IR, random input, for ``seconds``."""
    engine = open_artifact(bundle, art, device)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    for _ in range(5):
        run_single(engine, x)
    times, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        run_single(engine, x)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def bench_stages_vs_app(rows: dict, app_rows: list[dict], manifest) -> list[dict]:
    """The bench's own OpenVINO stage medians against benchmark_app on the same IRs.

    The SR stage is one model; the classify stage runs every classifier once, so it is set
    against the sum of their benchmark_app medians.
    """
    app = {(r["model"], r["precision"]): r["benchmark_app_median_ms"] for r in app_rows}
    classifiers = [m.name for m in manifest.models if m.role != "sr"]
    sr = [m.name for m in manifest.models if m.role == "sr"][:1]
    out = []
    for precision in ("fp32", "int8"):
        row = rows.get(f"openvino {precision}")
        if row is None or not row.stages:
            continue
        for stage, models in (("sr", sr), ("classify", classifiers)):
            times = [app.get((m, precision)) for m in models]
            if stage in row.stages and times and all(times):
                ours, theirs = row.stages[stage].p50, sum(times)
                out.append({"stage": stage, "precision": precision, "models": models, "bench_p50_ms": ours,
                            "benchmark_app_ms": theirs, "bench_over_benchmark_app": ours / theirs})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--torch-checkpoints", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10, help="per benchmark_app / adapter measurement")
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    args = parser.parse_args()

    from echosr_edge.export.torch_engine import find_checkpoints, torch_target

    manifest = open_bundle(args.bundle)
    runnable = {s.name: s for s in detect_devices() if s.available}
    cpu = get_profile("cpu").with_formats(runnable["cpu"].formats)
    cpu = cpu.__class__(**{**cpu.__dict__, "threads": args.threads})
    others = []
    if "intel-cpu" in runnable:
        ov = get_profile("intel-cpu").with_formats(runnable["intel-cpu"].formats)
        others.append(ov.__class__(**{**ov.__dict__, "threads": args.threads}))
    baseline = torch_target(manifest, find_checkpoints(args.torch_checkpoints, manifest), args.threads)
    report = bench_bundle(args.bundle, cpu, runs=args.runs, warmup=5, devices=others, torch_target=baseline)
    write_report(report, args.out)
    rows = {f"{r.format} {r.precision}": r for r in report.rows}
    torch_p50 = rows["pytorch fp32"].stages["total"].p50
    summary = {
        "machine": machine_info(),
        "threads": args.threads,
        "end_to_end_p50_ms": {k: r.stages["total"].p50 for k, r in rows.items() if r.stages},
        "speedup_vs_pytorch_fp32": {k: torch_p50 / r.stages["total"].p50 for k, r in rows.items() if r.stages},
        "sr_psnr_vs_fp32_db": {k: r.sr_psnr_vs_fp32 for k, r in rows.items()},
        "agreement_vs_fp32": {k: r.agreement_vs_fp32 for k, r in rows.items()},
        "benchmark_app": [],
    }
    if others:
        ov_profile = others[0]
        for entry in manifest.models:
            for precision in ("fp32", "int8"):
                art = entry.artifact("openvino", precision)
                if art is None:
                    continue
                size = int(entry.preprocessing["input_size"])
                shape = (1, 1, size, size)
                app = benchmark_app(args.bundle / art.file, shape, args.threads, args.seconds)
                ours = adapter_median(args.bundle, art, ov_profile, shape, args.seconds)
                summary["benchmark_app"].append({
                    "model": entry.name, "precision": precision, "input": list(shape),
                    "benchmark_app_median_ms": app, "adapter_median_ms": ours,
                    "adapter_over_benchmark_app": (ours / app) if app else None,
                })
        summary["bench_stage_vs_benchmark_app"] = bench_stages_vs_app(rows, summary["benchmark_app"], manifest)
    (args.out / "side_by_side.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(format_table(report))
    print(json.dumps({k: v for k, v in summary.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
