"""How long will the study's grid train on this card? Per-step times measured here, times the grid's plan.

    python benchmarks/grid_projection.py OUT [--config paper] [--device cuda] [--data CAMUS_ROOT]
        [--patients 500] [--epochs 3] [--vgg-weights vgg19.pth] [--repeats N] [--folds K]

1. Trains SRResNet, SRGAN, a view classifier and a quality model for ``--epochs`` epochs each at the
   config's settings (paper: HR 256, 24×24 LR patches, batch 16; ResNet-18 at 224 px) on the
   training side of a synthetic tree, and takes each trainer's steady seconds per optimiser step
   (the median epoch after the first, which carries CUDA warm-up, over its steps).
2. Plans the grid (``train experiments --plan``: every cell, its frames and optimiser steps) on
   ``--data`` (a CAMUS tree) or on the synthetic tree of ``--patients`` patients (Table 1's mix:
   500 gives CAMUS's counts), and multiplies.

Prints one line per trainer (cells, steps, s/step, hours) and the total; writes OUT/projection.json.
Enhancement and evaluation are left out (minutes against the SR models' hours). Without
``--vgg-weights`` SRGAN trains with the MSE content loss and its step leaves out the VGG19 forward.
On a CPU, ``--config smoke --patients 20 --epochs 2`` checks the script in a few minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from echosr_edge.data.camus import read_camus  # noqa: E402
from echosr_edge.train.experiment_config import get_config  # noqa: E402
from echosr_edge.train.grid_plan import plan_cells, project  # noqa: E402


def _steady(history: list[dict]) -> float:
    seconds = [r["seconds"] for r in history]
    return statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]


def measure(frames, config, device: str, epochs: int, vgg: Path | None) -> dict[str, dict]:
    """Seconds per optimiser step of each trainer at ``config``'s settings on ``device``."""
    from echosr_edge.train.classifier import train_classifier
    from echosr_edge.train.gan import train_srgan
    from echosr_edge.train.sr import train_sr

    good = [f for f in frames if f.quality == "good"]
    out = {}
    for kind in ("srresnet", "srgan"):
        base = config.schedule.sr if kind == "srresnet" else config.schedule.srgan
        cfg = replace(base, epochs=epochs, device=device)
        if kind == "srresnet":
            _, history = train_sr(good, cfg)
        else:
            _, history, losses = train_srgan(good, replace(cfg, vgg_weights=vgg))
        steps = math.ceil(len(good) * cfg.patches_per_frame / cfg.batch)
        out[kind] = {"frames": len(good), "steps_per_epoch": steps, "epoch_seconds": [r["seconds"] for r in history],
                     "seconds_per_step": _steady(history) / steps}
        if kind == "srgan":
            out[kind]["content_loss"] = losses.get("content_loss")
    for trainer, base, task in (("classifier", config.schedule.classifier, "view"), ("quality", config.schedule.quality, "quality")):
        cfg = replace(base, epochs=epochs, min_steps=0, device=device, task=task)
        _, history = train_classifier(frames, cfg)
        steps = math.ceil(len(frames) / cfg.batch)
        out[trainer] = {"frames": len(frames), "steps_per_epoch": steps, "epoch_seconds": [r["seconds"] for r in history],
                        "seconds_per_step": _steady(history) / steps}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--config", choices=("paper", "smoke"), default="paper")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", type=Path, help="the tree to plan (a CAMUS root); default: the synthetic tree")
    parser.add_argument("--patients", type=int, default=500, help="synthetic patients when --data is not given")
    parser.add_argument("--measure-patients", type=int, default=60, help="synthetic patients whose frames the timing trains on")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--vgg-weights", type=Path)
    parser.add_argument("--folds", type=int)
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    def synth(path: Path, patients: int) -> Path:
        if not path.is_dir():
            subprocess.run([sys.executable, "-m", "echosr_edge", "data", "synth", str(path), "--patients", str(patients), "--seed", "0"],
                           check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        return path

    config = get_config(args.config, folds=args.folds, repeats=args.repeats, allow_deviation=True, device=args.device)
    timing_frames = read_camus(synth(args.out / "timing-data", args.measure_patients)).frames
    rates = measure(timing_frames, config, args.device, args.epochs, args.vgg_weights)
    plan_tree = args.data or synth(args.out / "plan-data", args.patients)
    frames = read_camus(plan_tree).frames
    cells = plan_cells(frames, config)
    projected = project(cells, {k: v["seconds_per_step"] for k, v in rates.items()})
    device = args.device
    if device.startswith("cuda"):
        import torch

        device = f"{device}: {torch.cuda.get_device_name(0)}"
    result = {"config": args.config, "device": device, "plan_tree": str(plan_tree), "frames": len(frames),
              "folds": config.folds, "repeats": config.repeats, "measured": rates, "projection": projected}
    (args.out / "projection.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"{args.config} grid on {len(frames)} frames ({config.folds} folds × {config.repeats} repeats), {device}:")
    for name, t in projected["trainers"].items():
        rate = rates.get(name, {}).get("seconds_per_step", math.nan)
        print(f"  {name:10s} {t['cells']:4d} cells {t['steps']:>10,} steps × {rate * 1000:8.2f} ms/step = {t['seconds'] / 3600:8.2f} h")
    print(f"  total training: {projected['hours']:.1f} h ({projected['hours'] / 24:.2f} days) on one such card")
    if "srgan" in rates and rates["srgan"].get("content_loss") == "mse":
        print("  (SRGAN timed with the MSE content loss: pass --vgg-weights for the VGG19 forward the paper's loss adds)")


if __name__ == "__main__":
    main()
