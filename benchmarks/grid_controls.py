"""Run the experiment grid on both planted controls and say whether it tells them apart.

    python benchmarks/grid_controls.py WORKDIR [--patients 100] [--seed 11] [--quality-mix even|table1]
        [--repeats 3] [--quick] [--resume] [--no-augmented] [--no-gated] [--downsample bicubic|area]
        [--enhance-mode down-up|direct] [--only positive|negative]

Writes (if absent) WORKDIR/positive/data and WORKDIR/negative/data with the simulator
(``echosr-edge data synth --control positive|negative``: poor differs from good by PSF loss
only, or by contrast and haze only; an even quality mix by default, so the poor-sized task
sets hold a third of the frames instead of Table 1's fifth), runs ``train experiments`` (smoke config; ``--quick``
shrinks it further for a loaded machine) into WORKDIR/<control>/grid, and prints, for the
test-time setting, every SR − bicubic and SR − none interval, then the verdicts
(echosr_edge/train/controls.py), each on the per-comparison 95 % intervals and on the
family-wise (Bonferroni over the report table) ones:

- positive: does some SR − bicubic or SR − none interval exclude 0 (above it)?
- negative: is no SR − none interval on poor test frames above 0? And, stricter, does every
  SR − none interval include 0? Each one that does not is printed with its reading (the resize
  chain's cost, training transfer, or unexplained).
- apart: with both controls run, is SR − none above 0 on poor frames on the positive control
  only? (SR − bicubic above 0 is found on both: SR undoes the grid's own ↓4.)

``--repeats`` (default 3) retrains every cell that many times, so the intervals hold the training
runs' spread and train-on-enhanced differences count as evidence. One control at the defaults
(100 patients, 3 repeats) took 37 min on 2 CPU cores (the positive one, measured); both, about
75 min; ``--only`` runs one control.
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

from echosr_edge.train.controls import apart, verdicts  # noqa: E402
from echosr_edge.train.experiment_config import get_config  # noqa: E402
from echosr_edge.train.experiment_report import write_report  # noqa: E402
from echosr_edge.train.experiments import run_experiments  # noqa: E402

# For a loaded machine: 64 px frames, a narrower SRResNet (4 blocks × 32) on 2 patches a frame,
# SRResNet only, no augmented competitor.
QUICK = {"hr_size": 64, "classifier_size": 64, "sr_epochs": 4, "sr_blocks": 4, "sr_features": 32, "sr_patches_per_frame": 2,
         "classifier_epochs": 3, "sr_models": ("srresnet",), "augmented": False, "bootstrap": 1000}


def _fmt(c: dict) -> str:
    return (f"{c['points']:+6.1f} [{c['ci_low']:+6.1f}, {c['ci_high']:+6.1f}] family-wise [{c['ci_family_low']:+6.1f}, "
            f"{c['ci_family_high']:+6.1f}] p={c['mcnemar']['p']:.3f} p_holm={c['mcnemar'].get('p_holm', float('nan')):.3f}")


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
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the k-fold split (training runs in the intervals)")
    parser.add_argument("--quick", action="store_true", help=f"shrink the smoke grid: {QUICK}")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--only", choices=("positive", "negative"))
    args = parser.parse_args()
    summary = {}
    for control in [args.only] if args.only else ["positive", "negative"]:
        data = args.workdir / control / "data"
        if not data.is_dir():
            write_tree(data, control, args.patients, args.seed, args.quality_mix)
        overrides = {**(QUICK if args.quick else {}), "downsample": args.downsample, "enhance_mode": args.enhance_mode,
                     "repeats": args.repeats}
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
        print(f"  SR − bicubic above 0 (test-time): {v['sr_beats_bicubic']} (family-wise: {v['sr_beats_bicubic_family_wise']}); "
              "found on the negative control too: SR undoes the grid's own ↓4")
        print(f"  positive verdict: some SR − bicubic/none interval excludes 0 (above): {v['some_sr_gain_excludes_0']} "
              f"(family-wise: {v['some_sr_gain_excludes_0_family_wise']})")
        print(f"  negative verdict: no SR − none interval on poor test frames above 0: {v['no_sr_gain_on_poor']} "
              f"(family-wise: {v['no_sr_gain_on_poor_family_wise']})"
              + "".join(f"\n    above 0: {c['a']} − none, {c['tier']}: {_fmt(c)}" for c in v["sr_beats_none_on_poor"]))
        print(f"  stricter: every SR − none interval includes 0: {v['every_sr_none_includes_0']} "
              f"(family-wise: {v['every_sr_none_includes_0_family_wise']})"
              + "".join(f"\n    excludes 0{' family-wise' if c['family_wise'] else ''}: {c['task']} {c['setting']} "
                        f"{c['a']} − {c['b']} {c['tier']} {_fmt(c)}\n      reading: {c['reading']}" for c in v["sr_none_excluding_0"]))
        if v["not_evidence"]:
            print(f"  not judged: {v['not_evidence']} SR comparisons between different classifiers with fewer than 3 repeats")
        if idle:
            print(f"  NOT EVIDENCE: classifiers at chance on their own tier: {', '.join(idle)}")
        summary[control] = {k: v[k] for k in v if k.startswith(("some_", "every_", "no_", "not_", "classifiers_", "sr_beats_bicubic"))}
        summary[control]["sr_none_excluding_0"] = [{k: c[k] for k in ("task", "setting", "a", "b", "tier", "points", "ci_low", "ci_high",
                                                                      "family_wise", "reading")} for c in v["sr_none_excluding_0"]]
        summary[control]["repeats"] = args.repeats
    path = args.workdir / ("controls.json" if args.enhance_mode == "down-up" else f"controls_{args.enhance_mode}.json")
    earlier = json.loads(path.read_text()) if path.is_file() else {}  # --only keeps the other control's verdicts
    both = {**earlier, **summary}
    path.write_text(json.dumps(both, indent=2) + "\n")
    if {"positive", "negative"} <= set(both):
        print(f"\nthe controls told apart (SR − none above 0 on poor frames on the positive control only): "
              f"{apart(both['positive'], both['negative'], False)} (family-wise: {apart(both['positive'], both['negative'])})")


if __name__ == "__main__":
    main()
