"""Run the experiment grid on both planted controls and say whether it tells them apart.

    python benchmarks/grid_controls.py WORKDIR [--patients 100] [--seed 11] [--quality-mix even|table1]
        [--quick] [--resume] [--no-augmented] [--no-gated] [--downsample bicubic|area]
        [--enhance-mode down-up|direct] [--only positive|negative]

Writes (if absent) WORKDIR/positive/data and WORKDIR/negative/data with the simulator
(``echosr-edge data synth --control positive|negative``: poor differs from good by PSF loss
only, or by contrast and haze only; an even quality mix by default, so the poor-sized task
sets hold a third of the frames instead of Table 1's fifth), runs ``train experiments`` (smoke config; ``--quick``
shrinks it further for a loaded machine) into WORKDIR/<control>/grid, and prints, for the
test-time setting, every SR − bicubic and SR − none interval, then the verdicts, each on the
per-comparison 95 % intervals and on the family-wise (Bonferroni over the report table) ones:

- positive: does some SR − bicubic or SR − none interval exclude 0 (above it)?
- negative: does every SR − none interval (both settings, every tier) include 0?
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from echosr_edge.train.experiment_config import get_config  # noqa: E402
from echosr_edge.train.experiment_report import write_report  # noqa: E402
from echosr_edge.train.experiments import run_experiments  # noqa: E402

# For a loaded machine: 64 px frames, a narrower SRResNet (4 blocks × 32) on 2 patches a frame,
# SRResNet only, no augmented competitor.
QUICK = {"hr_size": 64, "classifier_size": 64, "sr_epochs": 4, "sr_blocks": 4, "sr_features": 32, "sr_patches_per_frame": 2,
         "classifier_epochs": 3, "sr_models": ("srresnet",), "augmented": False, "bootstrap": 1000}
SR_ARMS = ("srresnet", "srgan")


def _fmt(c: dict) -> str:
    return (f"{c['points']:+6.1f} [{c['ci_low']:+6.1f}, {c['ci_high']:+6.1f}] family-wise [{c['ci_family_low']:+6.1f}, "
            f"{c['ci_family_high']:+6.1f}] p={c['mcnemar']['p']:.3f} p_holm={c['mcnemar'].get('p_holm', float('nan')):.3f}")


def _includes_0(c: dict, family: bool) -> bool:
    low, high = (c["ci_family_low"], c["ci_family_high"]) if family else (c["ci_low"], c["ci_high"])
    return low <= 0 <= high


def verdicts(results: dict) -> dict:
    """The interval facts each control is judged on (per comparison, and family-wise)."""
    sr = [a for a in results["arms"] if a in SR_ARMS or a in results["config"]["sr_checkpoints"]]
    test_time = [c for task in results["paired"].values() for c in task["test_time"] if c["a"] in sr and c["b"] in ("bicubic", "none")]
    sr_none = [c for task in results["paired"].values() for s in task.values() for c in s if c["a"] in sr and c["b"] == "none"]
    return {
        "test_time": test_time,
        "some_sr_gain_excludes_0": any(c["ci_low"] > 0 for c in test_time),
        "some_sr_gain_excludes_0_family_wise": any(c["ci_family_low"] > 0 for c in test_time),
        "every_sr_none_includes_0": all(_includes_0(c, False) for c in sr_none),
        "every_sr_none_includes_0_family_wise": all(_includes_0(c, True) for c in sr_none),
        "sr_none_excluding_0": [c for c in sr_none if not _includes_0(c, False)],
    }


def write_tree(data: Path, control: str, patients: int, seed: int, quality_mix: str) -> None:
    """The simulator's planted-control tree (CAMUS 2023 layout)."""
    subprocess.run([sys.executable, "-m", "echosr_edge", "data", "synth", str(data), "--patients", str(patients),
                    "--control", control, "--seed", str(seed), "--quality-mix", quality_mix], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quality-mix", choices=("even", "table1"), default="even",
                        help="tiers of the written trees (even: a third each; table1: CAMUS's proportions)")
    parser.add_argument("--enhance-mode", choices=("down-up", "direct"), default="down-up")
    parser.add_argument("--no-gated", action="store_true", help="skip the gated experiment (not part of the verdicts)")
    parser.add_argument("--no-augmented", action="store_true", help="skip the augmented competitor (not part of the verdicts)")
    parser.add_argument("--downsample", choices=("bicubic", "area"), default="bicubic")
    parser.add_argument("--quick", action="store_true", help=f"shrink the smoke grid: {QUICK}")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--only", choices=("positive", "negative"))
    args = parser.parse_args()
    summary = {}
    for control in [args.only] if args.only else ["positive", "negative"]:
        data = args.workdir / control / "data"
        if not data.is_dir():
            write_tree(data, control, args.patients, args.seed, args.quality_mix)
        overrides = {**(QUICK if args.quick else {}), "downsample": args.downsample, "enhance_mode": args.enhance_mode}
        if args.no_augmented:
            overrides["augmented"] = False
        if args.no_gated:
            overrides["gated"] = False
        config = get_config("smoke", **overrides)
        started = time.perf_counter()
        grid = args.workdir / control / ("grid" if args.enhance_mode == "down-up" else f"grid_{args.enhance_mode}")
        results = run_experiments(data, grid, config, resume=args.resume,
                                  progress=lambda m: print(m, file=sys.stderr, flush=True))
        write_report(results, grid)
        v = verdicts(results)
        idle = [f"{task} trained on {tier}" for task, tiers in results["learning"].items() for tier, c in tiers.items() if not c["learned"]]
        idle += [f"{task} trained on poor through {arm}" for task, arms in results.get("learning_enhanced", {}).items()
                 for arm, c in arms.items() if not c["learned"]]
        v["classifiers_at_chance"] = idle
        print(f"\n== {control} control ({time.perf_counter() - started:.0f} s) — test-time setting, SR vs bicubic / none (points, 95 % CI):")
        for task, cells in results["paired"].items():
            for c in cells["test_time"]:
                if c in v["test_time"]:
                    print(f"  {task:5s} train {c['tier']:6s} {c['a']:8s} − {c['b']:8s} {_fmt(c)}")
        if control == "positive":
            print(f"  verdict: some SR − bicubic/none interval excludes 0 (above): {v['some_sr_gain_excludes_0']} "
                  f"(family-wise: {v['some_sr_gain_excludes_0_family_wise']})")
        else:
            print(f"  verdict: every SR − none interval includes 0: {v['every_sr_none_includes_0']} "
                  f"(family-wise: {v['every_sr_none_includes_0_family_wise']})"
                  + "".join(f"\n    excludes 0: {c['a']} − {c['b']} {c['tier']} {_fmt(c)}" for c in v["sr_none_excluding_0"]))
        if idle:
            print(f"  NOT EVIDENCE: classifiers at chance on their own tier: {', '.join(idle)}")
        summary[control] = {k: v[k] for k in v if k.startswith(("some_", "every_", "classifiers_"))}
    path = args.workdir / ("controls.json" if args.enhance_mode == "down-up" else f"controls_{args.enhance_mode}.json")
    earlier = json.loads(path.read_text()) if path.is_file() else {}  # --only keeps the other control's verdicts
    path.write_text(json.dumps({**earlier, **summary}, indent=2) + "\n")


if __name__ == "__main__":
    main()
