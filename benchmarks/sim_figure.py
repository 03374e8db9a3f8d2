"""docs/simulator.png: one simulated patient's 2CH/4CH ED/ES at each tier beside its clean frame, and the old generator's.

The patient's heart, probe poses and scatterers stay fixed; each tier's column uses the
acquisition whose hidden score is that tier's median among 300 planned patients. The last two
columns are the simple generator's (``--style simple``) good and poor frames.

    python benchmarks/sim_figure.py [--out docs/simulator.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from echosr_edge.data.simulator.formation import Acquisition  # noqa: E402
from echosr_edge.data.simulator.simulate import render_view  # noqa: E402
from echosr_edge.data.simulator.tree import plan_patients  # noqa: E402
from echosr_edge.data.synth import patient_anatomy, render  # noqa: E402

TILE_W = 260


def _tile(image: np.ndarray) -> np.ndarray:
    h, w = image.shape
    return cv2.resize(image, (TILE_W, int(round(h * TILE_W / w))), interpolation=cv2.INTER_AREA)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    return out


def median_acquisitions(plans) -> dict[str, tuple[Acquisition, float]]:
    """Per tier, the acquisition (2CH) whose score is that tier's median."""
    chosen = {}
    for tier in ("good", "medium", "poor"):
        views = sorted((v for p in plans for v in p.views if v.quality == tier), key=lambda v: v.score)
        mid = views[len(views) // 2]
        chosen[tier] = (mid.acquisition, mid.score)
    return chosen


def figure(patient: int = 0, seed: int = 0) -> np.ndarray:
    plans = plan_patients(300, seed)
    plan = plans[patient]
    acquisitions = median_acquisitions(plans)
    rows = []
    for vp in plan.views:
        view_seed = [seed, patient, 0 if vp.view == "2CH" else 1]
        tiers = {t: render_view(vp.view, plan.heart, vp.pose, a, [0.0, 1.0], view_seed, masks=False) for t, (a, _) in acquisitions.items()}
        old_rng = np.random.default_rng([seed, patient])
        anatomy = patient_anatomy(old_rng)
        for k, phase in enumerate(("ED", "ES")):
            cells = [_label(_tile(tiers["good"].clean[k]), f"{vp.view} {phase} clean")]
            cells += [_label(_tile(tiers[t].frames[k]), f"{t} (score {acquisitions[t][1]:.2f})") for t in tiers]
            for quality in ("good", "poor"):
                old = render(vp.view, float(k), quality, anatomy, old_rng, (320, 256))[0]
                cells.append(_label(cv2.resize(old, (TILE_W, cells[0].shape[0]), interpolation=cv2.INTER_AREA), f"old {quality}"))
            rows.append(np.concatenate(cells, axis=1))
    return np.concatenate(rows, axis=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "simulator.png")
    parser.add_argument("--patient", type=int, default=0)
    args = parser.parse_args()
    cv2.imwrite(str(args.out), figure(args.patient))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
