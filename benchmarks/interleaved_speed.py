"""Every backend's end-to-end speed against PyTorch eager FP32, measured interleaved in one process.

On a machine other people are using, load changes over a run; benching targets one after the
other puts each in a different load. Here every target (PyTorch FP32, each backend × precision
of the bundle) is built first, then rounds go round-robin: each target processes a block of
frames, then each of its engines is timed alone on the same input shape. Ratios come from the
medians over all rounds, so every target sees the same load on average.

    python benchmarks/interleaved_speed.py --bundle B --torch-checkpoints C --threads 2 --rounds 8 --block 4 --out speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.devices.detect import detect_devices
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.bench import bundle_targets, load_frames, machine_info
from echosr_edge.runtime.engine import run_single
from echosr_edge.runtime.roofline import measure_ceiling, stage_engines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--torch-checkpoints", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--block", type=int, default=4, help="frames per target per round")
    parser.add_argument("--out", type=Path, default=Path("interleaved_speed.json"))
    args = parser.parse_args()

    manifest = open_bundle(args.bundle)
    frames, _ = load_frames(args.bundle, manifest)
    runnable = {s.name: s for s in detect_devices() if s.available}
    profiles = []
    for name in ("cpu", "intel-cpu"):
        if name in runnable:
            p = get_profile(name).with_formats(runnable[name].formats)
            profiles.append(p.__class__(**{**p.__dict__, "threads": args.threads}))
    targets = bundle_targets(args.bundle, manifest, profiles, precisions=("fp32", "int8"))
    if args.torch_checkpoints:
        from echosr_edge.export.torch_engine import find_checkpoints, torch_target

        targets.insert(0, torch_target(manifest, find_checkpoints(args.torch_checkpoints, manifest), args.threads))
    built = [(t, t.build()) for t in targets]
    rng = np.random.default_rng(0)
    times: dict[str, dict[str, list[float]]] = {t.label: {} for t in targets}
    alone: dict[str, dict[str, list[float]]] = {t.label: {} for t in targets}
    for t, pipeline in built:  # warm-up
        for f in frames[:2]:
            pipeline.process(f)
    load = [os.getloadavg()[0]]
    for r in range(args.rounds):
        for t, pipeline in built:
            for i in range(args.block):
                result = pipeline.process(frames[(r * args.block + i) % len(frames)])
                for stage, ms in result.timings_ms.items():
                    times[t.label].setdefault(stage, []).append(ms)
            for stage, _, engine, shape in stage_engines(pipeline):
                x = rng.random(shape, dtype=np.float32)
                for _ in range(args.block):
                    start = time.perf_counter()
                    run_single(engine, x)
                    alone[t.label].setdefault(stage, []).append((time.perf_counter() - start) * 1000.0)
        load.append(os.getloadavg()[0])
    ceilings = {}
    for t, _ in built:
        if t.profile is not None:
            c = measure_ceiling(t.format, t.precision, t.profile.threads, t.profile.options_for(t.format))
            ceilings[t.label] = c.gmacs
    macs = manifest.notes.get("macs", {})
    base = float(np.median(times[targets[0].label]["total"]))
    rows = {}
    for t, pipeline in built:
        p50 = {k: float(np.median(v)) for k, v in times[t.label].items()}
        names = {stage: model for stage, model, _, _ in stage_engines(pipeline)}
        stages = {}
        for stage, values in alone[t.label].items():
            a = float(np.median(values))
            m = (macs.get(names[stage]) or {}).get("total")
            g = m / p50[stage] / 1e6 if m else None
            stages[stage] = {"pipeline_p50_ms": p50[stage], "alone_p50_ms": a, "pipeline_over_alone": p50[stage] / a,
                             "gmacs": g, "pct_of_ceiling": 100 * g / ceilings[t.label] if g and ceilings.get(t.label) else None}
        rows[t.label] = {"total_p50_ms": p50["total"], "speedup_vs_first": base / p50["total"], "stages": stages,
                         "ceiling_gmacs": ceilings.get(t.label)}
    summary = {"machine": machine_info(), "threads": args.threads, "rounds": args.rounds, "block": args.block,
               "loadavg_1min_during": load, "reference": targets[0].label, "rows": rows}
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    for label, row in rows.items():
        worst = max(row["stages"].items(), key=lambda kv: kv[1]["pipeline_over_alone"])
        print(f"{label:14} p50 {row['total_p50_ms']:7.1f} ms  {row['speedup_vs_first']:5.2f}× vs {targets[0].label}  "
              f"worst stage/alone {worst[1]['pipeline_over_alone']:.2f} ({worst[0]})  ceiling {row['ceiling_gmacs'] or 0:.0f} GMAC/s  "
              + "  ".join(f"{k.removeprefix('classify_')} {v['pct_of_ceiling'] or 0:.0f}%" for k, v in row["stages"].items()))
    print("load average (1 min) during the run:", " ".join(f"{v:.2f}" for v in load))


if __name__ == "__main__":
    main()
