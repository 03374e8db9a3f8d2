"""Run the experiment grid on both planted controls and say whether it tells them apart.

    python benchmarks/grid_controls.py WORKDIR [--patients 100] [--quick] [--resume]

Writes (if absent) WORKDIR/positive/data and WORKDIR/negative/data with
benchmarks/make_control_tree.py, runs ``train experiments`` (smoke config; ``--quick`` shrinks
it further for a loaded machine) into WORKDIR/<control>/grid, and prints, for the test-time
setting, every SR − bicubic and SR − none interval, then the two verdicts:

- positive: does some SR − bicubic or SR − none interval exclude 0 (above it)?
- negative: does every SR − none interval (both settings, every tier) include 0?
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_control_tree import write_control_tree

from echosr_edge.train.experiment_config import get_config
from echosr_edge.train.experiment_report import write_report
from echosr_edge.train.experiments import run_experiments

# For a loaded machine: 64 px frames, a narrower SRResNet (4 blocks × 32) on 2 patches a frame,
# SRResNet only, no augmented competitor.
QUICK = {"hr_size": 64, "classifier_size": 64, "sr_epochs": 4, "sr_blocks": 4, "sr_features": 32, "sr_patches_per_frame": 2,
         "classifier_epochs": 3, "sr_models": ("srresnet",), "augmented": False, "bootstrap": 1000}
SR_ARMS = ("srresnet", "srgan")


def _fmt(c: dict) -> str:
    return f"{c['points']:+6.1f} [{c['ci_low']:+6.1f}, {c['ci_high']:+6.1f}] p={c['mcnemar']['p']:.3f}"


def verdicts(results: dict) -> dict:
    """The interval facts each control is judged on."""
    sr = [a for a in results["arms"] if a in SR_ARMS or a in results["config"]["sr_checkpoints"]]
    test_time = [c for task in results["paired"].values() for c in task["test_time"] if c["a"] in sr and c["b"] in ("bicubic", "none")]
    sr_none = [c for task in results["paired"].values() for s in task.values() for c in s if c["a"] in sr and c["b"] == "none"]
    return {
        "test_time": test_time,
        "some_sr_gain_excludes_0": any(c["ci_low"] > 0 for c in test_time),
        "every_sr_none_includes_0": all(c["ci_low"] <= 0 <= c["ci_high"] for c in sr_none),
        "sr_none_excluding_0": [c for c in sr_none if not c["ci_low"] <= 0 <= c["ci_high"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help=f"shrink the smoke grid: {QUICK}")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--only", choices=("positive", "negative"))
    args = parser.parse_args()
    summary = {}
    for control in [args.only] if args.only else ["positive", "negative"]:
        data = args.workdir / control / "data"
        if not data.is_dir():
            write_control_tree(data, control, args.patients)
        config = get_config("smoke", **(QUICK if args.quick else {}))
        started = time.perf_counter()
        results = run_experiments(data, args.workdir / control / "grid", config, resume=args.resume,
                                  progress=lambda m: print(m, file=sys.stderr, flush=True))
        write_report(results, args.workdir / control / "grid")
        v = verdicts(results)
        print(f"\n== {control} control ({time.perf_counter() - started:.0f} s) — test-time setting, SR vs bicubic / none (points, 95 % CI):")
        for task, cells in results["paired"].items():
            for c in cells["test_time"]:
                if c in v["test_time"]:
                    print(f"  {task:5s} train {c['tier']:6s} {c['a']:8s} − {c['b']:8s} {_fmt(c)}")
        if control == "positive":
            print(f"  verdict: some SR − bicubic/none interval excludes 0 (above): {v['some_sr_gain_excludes_0']}")
        else:
            print(f"  verdict: every SR − none interval includes 0: {v['every_sr_none_includes_0']}"
                  + "".join(f"\n    excludes 0: {c['a']} − {c['b']} {c['tier']} {_fmt(c)}" for c in v["sr_none_excluding_0"]))
        summary[control] = {k: v[k] for k in ("some_sr_gain_excludes_0", "every_sr_none_includes_0")}
    (args.workdir / "controls.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
