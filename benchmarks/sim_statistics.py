"""Does the simulator's data behave like echo? Two checks from the written files alone.

1. Contrast-to-noise ratio between LV cavity (``_gt`` label 1) and myocardium (label 2) per
   frame, by quality tier: medians must order good > medium > poor while the inter-quartile
   ranges of adjacent tiers overlap (expert tiers are not separable presets).
2. Speckle grain: the width (FWHM) of the intensity autocovariance inside the myocardium,
   along the image rows (x) and columns (z), against what the PSF recorded in each patient's
   ``simulation.json`` predicts (within 20 %). The display values are turned back into
   intensity with the recorded dynamic range; for a Gaussian PSF the intensity autocovariance
   has the amplitude PSF's FWHM, and along x at beam angle θ its width is
   1/sqrt(cos²θ/wl² + sin²θ/wa²) (wl lateral at that depth, wa axial), z likewise.

    python benchmarks/sim_statistics.py ROOT [--max-frames N] [--grain-frames 60]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from echosr_edge.data.camus import read_camus  # noqa: E402
from echosr_edge.data.layout import SIMULATION_FILE  # noqa: E402
from echosr_edge.data.simulator.formation import PSF, BeamGrid  # noqa: E402
from echosr_edge.data.simulator.tree import clean_path  # noqa: E402

TIERS = ("good", "medium", "poor")


def cnr(image: np.ndarray, mask: np.ndarray) -> float:
    """|mean myocardium − mean cavity| / sqrt(var myocardium + var cavity) on the display values."""
    cavity, myo = image[mask == 1].astype(np.float64), image[mask == 2].astype(np.float64)
    return float(abs(myo.mean() - cavity.mean()) / np.sqrt(myo.var() + cavity.var() + 1e-12))


def _fwhm(profile: np.ndarray) -> float:
    """Full width at half maximum (in samples) of a symmetric profile peaking at index 0 (one side given)."""
    below = np.nonzero(profile < 0.5)[0]
    if len(below) == 0:
        return float("nan")
    k = below[0]
    return 2.0 * (k - 1 + (profile[k - 1] - 0.5) / (profile[k - 1] - profile[k]))


def grain(image: np.ndarray, region: np.ndarray, dynamic_range_db: float) -> tuple[float, float]:
    """Autocovariance FWHM in pixels along x and z of the intensity inside ``region``."""
    intensity = 10.0 ** ((image.astype(np.float64) / 255.0 - 1.0) * dynamic_range_db / 10.0)
    m = region.astype(np.float64)
    sigma = 20.0  # px: local mean over ~5 mm, far wider than the grain
    local = cv2.GaussianBlur(intensity * m, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-9)
    f = np.where(region, intensity / np.maximum(local, 1e-12) - 1.0, 0.0)
    shape = [2 * n for n in f.shape]
    spec_f, spec_m = np.fft.rfft2(f, shape), np.fft.rfft2(m, shape)
    cov = np.fft.irfft2(np.abs(spec_f) ** 2, shape)
    counts = np.fft.irfft2(np.abs(spec_m) ** 2, shape)
    acf = cov / np.maximum(counts, 1.0)
    acf /= acf[0, 0]
    return _fwhm(acf[0, :40]), _fwhm(acf[:40, 0])


def expected_grain(region: np.ndarray, psf: PSF, spacing: float) -> tuple[float, float]:
    """Predicted autocovariance FWHM in mm along x and z, averaged over ``region``'s pixels."""
    rows, cols = np.nonzero(region)
    x = (cols + 0.5 - region.shape[1] / 2.0) * spacing
    z = (rows + 0.5) * spacing
    depth, theta = np.hypot(x, z), np.arctan2(x, z)
    wl, wa = psf.lateral_fwhm_at(depth), psf.axial_fwhm_mm
    c2, s2 = np.cos(theta) ** 2, np.sin(theta) ** 2
    return float(np.mean(1.0 / np.sqrt(c2 / wl**2 + s2 / wa**2))), float(np.mean(1.0 / np.sqrt(s2 / wl**2 + c2 / wa**2)))


def summarise(root: Path, max_frames: int | None = None, grain_frames: int = 60) -> dict:
    """Per-tier CNR quartiles and per-tier grain (measured vs predicted) of the sim tree at ``root``."""
    tree = read_camus(root, masks=True)
    frames = [f for f in tree.frames if f.mask is not None][:max_frames]
    cnrs: dict[str, list[float]] = {t: [] for t in TIERS}
    grains: dict[str, list[tuple[float, float, float, float]]] = {t: [] for t in (*TIERS, "clean")}
    kernel = np.ones((7, 7), np.uint8)
    for index, frame in enumerate(frames):
        truth = json.loads((frame.source.parent / SIMULATION_FILE).read_text())
        acq = truth["views"][frame.view]["acquisition"]
        spacing = truth["spacing_mm"]
        cnrs[frame.quality].append(cnr(frame.image, frame.mask))
        if index >= grain_frames:
            continue
        region = cv2.erode((frame.mask == 2).astype(np.uint8), kernel) > 0
        clean_image = tree_release_read(frame.source)
        for name, image, psf in (
            (frame.quality, frame.image, PSF(**acq["psf"])),
            ("clean", clean_image, PSF()),
        ):
            gx, gz = grain(image, region, acq["dynamic_range_db"])
            ex, ez = expected_grain(region, psf, spacing)
            grains[name].append((gx * spacing, ex, gz * spacing, ez))
    return {"cnr": cnrs, "grain": grains, "frames": len(frames)}


def tree_release_read(frame_path: Path) -> np.ndarray:
    """The clean twin of a frame file, read in the frame's own format."""
    from echosr_edge.data.layout import RELEASES

    release = RELEASES["2019" if frame_path.suffix == ".mhd" else "2023"]
    return release.read_image(clean_path(frame_path))[0][0]


def report(result: dict) -> tuple[str, bool]:
    """The printed tables, and whether both checks pass."""
    lines = [f"{result['frames']} frames", "", "CNR LV cavity vs myocardium (display values)",
             "tier     n   median   IQR"]
    quartiles = {}
    for tier in TIERS:
        values = np.array(result["cnr"][tier])
        if len(values) == 0:
            continue
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        quartiles[tier] = (q1, med, q3)
        lines.append(f"{tier:7s}{len(values):4d}   {med:6.3f}   [{q1:.3f}, {q3:.3f}]")
    ordered = all(quartiles[a][1] > quartiles[b][1] for a, b in zip(TIERS, TIERS[1:]) if a in quartiles and b in quartiles)
    overlap = all(quartiles[a][0] <= quartiles[b][2] for a, b in zip(TIERS, TIERS[1:]) if a in quartiles and b in quartiles)
    lines.append(f"medians ordered good > medium > poor: {ordered}; adjacent IQRs overlap: {overlap}")
    lines += ["", "speckle grain in the myocardium: autocovariance FWHM (mm), median over frames",
              "frames    n   x measured  x PSF   ratio   z measured  z PSF   ratio"]
    within = True
    for name, rows in result["grain"].items():
        if not rows:
            continue
        gx, ex, gz, ez = (np.nanmedian(np.array(rows)[:, i]) for i in range(4))
        rx, rz = gx / ex, gz / ez
        within &= abs(rx - 1) <= 0.2 and abs(rz - 1) <= 0.2
        lines.append(f"{name:7s}{len(rows):4d}   {gx:8.2f}  {ex:6.2f}   {rx:5.2f}   {gz:8.2f}  {ez:6.2f}   {rz:5.2f}")
    lines.append(f"grain within 20 % of the PSF: {within}")
    return "\n".join(lines), ordered and overlap and within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--max-frames", type=int, default=None, help="Read at most this many frames.")
    parser.add_argument("--grain-frames", type=int, default=60, help="Measure the grain on the first N frames (and their clean twins).")
    args = parser.parse_args()
    text, ok = report(summarise(args.root, args.max_frames, args.grain_frames))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
