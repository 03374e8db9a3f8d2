"""The planted controls, end to end: does SR recover what the positive control lost, and not the negative's?

For each control (``data synth --control positive|negative``) this writes a simulated tree,
trains SRResNet with ``echosr-edge train sr ROOT --schedule smoke`` (on good frames, as
always), then takes every poor frame, degrades it as the study does (HR 128 → bicubic ↓4)
and compares SR(LR) and bicubic↑(LR) with the poor frame's clean twin (same anatomy, pose and
scatterers, ideal acquisition) by PSNR inside the sector. Positive control: SR should beat
bicubic by a clear margin (what the poor tier lost is resolution). Negative control: it
should not (what the poor tier lost is contrast and haze, which neither method restores).

    python benchmarks/sim_control_sr.py OUT [--patients 40] [--seed 0]

Prints one line per control: poor frames, PSNR of SR and bicubic vs clean, the paired margin
with a bootstrap 95 % interval.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR))

from echosr_edge.data.camus import read_camus  # noqa: E402
from echosr_edge.data.layout import RELEASES  # noqa: E402
from echosr_edge.data.preprocess import bicubic_down, bicubic_up, resize_unit  # noqa: E402
from echosr_edge.data.simulator.tree import clean_path  # noqa: E402

HR, SCALE = 128, 4


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "echosr_edge", *args], check=True, cwd=ROOT_DIR)


def psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    """PSNR in dB of two [0, 1] images over ``region``."""
    mse = float(np.mean((a[region] - b[region]) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-12))


def evaluate(root: Path, checkpoint: Path) -> dict:
    """PSNR vs the clean twin of SR and bicubic on every poor frame of ``root``."""
    import torch

    from echosr_edge.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    release = RELEASES["2023"]
    sr_db, bic_db = [], []
    for frame in read_camus(root).frames:
        if frame.quality != "poor":
            continue
        clean = release.read_image(clean_path(frame.source))[0][0]
        hr_clean = resize_unit(clean, HR)
        sector = cv2.resize((clean > 0).astype(np.float32), (HR, HR), interpolation=cv2.INTER_AREA) > 0.99
        lr = bicubic_down(resize_unit(frame.image, HR), SCALE)
        with torch.no_grad():
            sr = model(torch.from_numpy(lr)[None, None]).clamp(0, 1)[0, 0].numpy()
        sr_db.append(psnr(sr, hr_clean, sector))
        bic_db.append(psnr(bicubic_up(lr, SCALE), hr_clean, sector))
    sr_db, bic_db = np.array(sr_db), np.array(bic_db)
    diff = sr_db - bic_db
    rng = np.random.default_rng(0)
    boots = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(2000)]
    return {
        "frames": len(diff), "sr_db": float(sr_db.mean()), "bicubic_db": float(bic_db.mean()),
        "margin_db": float(diff.mean()), "ci95": tuple(float(v) for v in np.percentile(boots, [2.5, 97.5])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = {}
    for control in ("positive", "negative"):
        root, ckpt = args.out / control, args.out / f"{control}_sr.pt"
        if not root.exists():
            _cli("data", "synth", str(root), "--patients", str(args.patients), "--seed", str(args.seed),
                 "--control", control, "--quality-mix", "even")
        if not ckpt.exists():
            _cli("train", "sr", str(root), "--out", str(ckpt), "--schedule", "smoke", "--seed", str(args.seed))
        results[control] = evaluate(root, ckpt)
    print("control    poor frames   SR vs clean   bicubic vs clean   margin (95% CI)")
    for control, r in results.items():
        lo, hi = r["ci95"]
        print(f"{control:9s}  {r['frames']:11d}   {r['sr_db']:8.2f} dB   {r['bicubic_db']:11.2f} dB   "
              f"{r['margin_db']:+.2f} dB [{lo:+.2f}, {hi:+.2f}]")
    positive, negative = results["positive"], results["negative"]
    ok = positive["ci95"][0] > 0 and negative["margin_db"] < positive["margin_db"] / 2
    print(f"positive control recovered by SR and negative not: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
