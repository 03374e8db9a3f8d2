"""Write a planted-control CAMUS tree with the package's synthetic generator.

    python benchmarks/make_control_tree.py OUT --control positive|negative [--patients 100] [--seed 0]

Labels (view, phase, Table 1 quality proportions) are those of ``data synth``. Good and medium
views are rendered as ``data synth`` renders them; each *poor* view is rendered as a *good*
view of the same patient and then degraded by a known operator only:

- ``positive``: a known resolution loss — Gaussian PSF blur (σ = 2 px at the native size) then
  ↓4 (area) and ↑4 (bicubic) back to the native size. SR trained on good frames can restore
  what the ↓4 removed, so an SR arm that does its job should beat bicubic and none here.
- ``negative``: contrast loss only — intensities × 0.45 plus a haze of 25 grey levels inside
  the sector. No resolution is lost, so SR − none should be indistinguishable from 0.

Until the ultrasound simulator's ``--control`` lands, this is how the grid's controls are made.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.data.camus_cfg import format_info_cfg
from echosr_edge.data.layout import RELEASES
from echosr_edge.data.records import PHASES, VIEWS
from echosr_edge.data.synth import allocate_qualities, patient_anatomy, render

CONTROLS = ("positive", "negative")
PSF_SIGMA = 2.0
SCALE = 4
CONTRAST = 0.45
HAZE = 25


def degrade(image: np.ndarray, control: str) -> np.ndarray:
    """A good uint8 frame → its control-degraded version (same size, uint8)."""
    if control == "positive":
        h, w = image.shape
        blurred = cv2.GaussianBlur(image.astype(np.float32), (0, 0), PSF_SIGMA)
        low = cv2.resize(blurred, (w // SCALE, h // SCALE), interpolation=cv2.INTER_AREA)
        return np.clip(cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC) + 0.5, 0, 255).astype(np.uint8)
    if control == "negative":
        return np.where(image > 0, np.clip(image.astype(np.float32) * CONTRAST + HAZE + 0.5, 0, 255), 0).astype(np.uint8)
    raise ValueError(f"unknown control {control!r}; controls: {', '.join(CONTROLS)}")


def write_control_tree(out: Path, control: str, patients: int = 100, seed: int = 0, size: tuple[int, int] = (320, 256)) -> Path:
    """``patients`` synthetic patients (CAMUS 2023 layout) whose poor views are degraded good views."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control {control!r}; controls: {', '.join(CONTROLS)}")
    layout = RELEASES["2023"]
    out = Path(out)
    label_rng = np.random.default_rng([seed, 10_000_019])
    qualities = {view: allocate_qualities(patients, view, label_rng, "table1") for view in VIEWS}
    for index in range(patients):
        rng = np.random.default_rng([seed, index])
        pdir = out / f"patient{index + 1:04d}"
        pdir.mkdir(parents=True, exist_ok=True)
        anatomy = patient_anatomy(rng)
        for view in VIEWS:
            quality = qualities[view][index]
            info = {"ED": 1, "ES": 2, "NbFrame": 2, "Sex": "F" if rng.random() < 0.5 else "M",
                    "Age": int(rng.integers(20, 90)), "ImageQuality": quality, "EF": 55, "FrameRate": 50}
            (pdir / f"Info_{view}.cfg").write_text(format_info_cfg(info))
            for phase in PHASES:
                image = render(view, 0.0 if phase == "ED" else 1.0, "good" if quality == "poor" else quality, anatomy, rng, size)[0]
                if quality == "poor":
                    image = degrade(image, control)
                layout.write_image(layout.frame_path(pdir, view, phase), image, (0.3, 0.3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--control", required=True, choices=CONTROLS)
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_control_tree(args.out, args.control, args.patients, args.seed)
    print(f"wrote {args.patients} patients ({args.control} control) to {args.out}")


if __name__ == "__main__":
    main()
