"""Acquisition quality: a hidden continuous score per patient-view, built from its causes, and tier labels.

Default data: a latent difficulty draws the causes that degrade transthoracic echo (rib
shadows, lung dropout of a wall segment, near-field clutter, reverberation, aberration that
widens the PSF, receiver noise), each with its own spread; gain and TGC errors are drawn
independently of quality, as sonographers mis-set them at any level. The score summarises
the causes (1 ideal, 0 worst). Tier labels rank the score plus label noise, so adjacent tiers
overlap as expert labels do, and CAMUS's Table 1 proportions are kept exactly.

Planted controls (``CONTROLS``): the tiers are allocated first and set one kind of loss only.
``positive``: medium and poor differ from good only by lost resolution, which super-resolution
can restore: a wider PSF and a coarse capture (the frame through 64² or 32² pixels: ↓2 and ↓4 at
the smoke grid's 128² HR, so poor frames are what the grid's own ↓4 makes of a good frame, blurred);
``negative``: only by display contrast and haze (which it cannot).
"""

from __future__ import annotations

import numpy as np

from echosr_edge.data.records import QUALITIES
from echosr_edge.data.simulator.formation import PSF, Acquisition
from echosr_edge.errors import ConfigError

CONTROLS = ("positive", "negative")
LABEL_NOISE = 0.1  # std of the rater's noise on the score (scores spread over ~0.2-0.95)
POSITIVE_PSF = {"good": (1.0, 1.0), "medium": (2.0, 1.6), "poor": (3.2, 2.4)}  # (lateral, axial) factors
POSITIVE_CAPTURE = {"good": None, "medium": 64, "poor": 32}  # capture pixels across the frame (Acquisition.capture_px)
NEGATIVE_DISPLAY = {"good": (1.0, 0.0), "medium": (0.7, 0.12), "poor": (0.5, 0.22)}  # (contrast, haze)


def _gain_error(rng: np.random.Generator) -> dict:
    return {"gain_db": float(rng.normal(0.0, 3.0)), "tgc_slope_db_per_cm": float(rng.normal(0.0, 0.5))}


def draw_acquisition(rng: np.random.Generator, base: PSF = PSF()) -> tuple[Acquisition, float]:
    """The causes of one view's quality and their hidden score (1 ideal … 0 worst)."""
    window = float(rng.random())  # latent difficulty of this patient's acoustic window

    def severity() -> float:  # each cause follows the window only in part, as in real scans
        return 0.5 * window + 0.5 * float(rng.random())

    z = severity()
    shadows = tuple(
        (float(rng.uniform(-0.55, 0.55)), float(rng.uniform(0.05, 0.12)), float(rng.uniform(6.0, 10.0 + 18.0 * z)))
        for _ in range(min(3, int(rng.poisson(0.3 + 1.8 * z))))
    )
    z = severity()
    dropout = None
    if rng.random() < 0.15 + 0.6 * z:
        dropout = (float(rng.uniform(0.2, 0.5)), float(rng.uniform(0.08, 0.16)), float(rng.uniform(5.0, 8.0 + 14.0 * z)))
    clutter = 0.03 + 0.8 * severity() * float(rng.uniform(0.5, 1.5))
    reverberation = 0.005 + 0.12 * severity() * float(rng.uniform(0.5, 1.5))
    z = severity()
    lateral = 1.0 + 0.9 * z * float(rng.uniform(0.6, 1.4))
    axial = 1.0 + 0.25 * z * float(rng.uniform(0.6, 1.4))
    noise_db = -88.0 + 30.0 * severity() + float(rng.normal(0.0, 3.0))
    acq = Acquisition(
        psf=base.widened(lateral, axial), noise_db=noise_db, clutter=clutter, reverberation=reverberation,
        rib_depth_mm=float(rng.uniform(10.0, 16.0)), shadows=shadows, dropout=dropout, **_gain_error(rng),
    )
    return acq, score(acq, base)


def score(acq: Acquisition, base: PSF = PSF()) -> float:
    """The hidden quality score of an acquisition's causes (gain errors do not count)."""
    shadow = sum(loss / 25.0 * width / 0.1 for _, width, loss in acq.shadows) / 2.0
    dropout = acq.dropout[2] / 20.0 if acq.dropout else 0.0
    aberration = (acq.psf.lateral_fwhm_mm / base.lateral_fwhm_mm - 1.0) / 0.9
    snr = (acq.noise_db + 88.0) / 30.0
    loss = 0.2 * shadow + 0.1 * dropout + 0.25 * acq.clutter / 0.8 + 0.1 * acq.reverberation / 0.12 + 0.2 * aberration + 0.15 * snr
    return float(np.clip(1.0 - loss, 0.0, 1.0))


def tiers_from_scores(scores: list[float], counts: tuple[int, int, int], rng: np.random.Generator) -> list[str]:
    """Tier labels: rank the scores plus label noise; the best ``counts[0]`` are good, the next medium, the rest poor."""
    noisy = np.asarray(scores) + rng.normal(0.0, LABEL_NOISE, len(scores))
    order = np.argsort(-noisy, kind="stable")
    labels = [""] * len(scores)
    bounds = np.cumsum(counts)
    for rank, i in enumerate(order):
        labels[i] = QUALITIES[int(np.searchsorted(bounds, rank, side="right"))]
    return labels


def control_acquisition(control: str, tier: str, rng: np.random.Generator, base: PSF = PSF()) -> tuple[Acquisition, float]:
    """A planted control's acquisition of ``tier`` and its score: one kind of loss only, no other cause."""
    if control == "positive":
        lateral, axial = (f * float(rng.uniform(0.92, 1.08)) if f > 1 else f for f in POSITIVE_PSF[tier])
        acq = Acquisition(psf=base.widened(lateral, axial), capture_px=POSITIVE_CAPTURE[tier])
        return acq, float(1.0 - (lateral - 1.0) / 2.5)
    if control == "negative":
        contrast, haze = NEGATIVE_DISPLAY[tier]
        jitter = float(rng.uniform(0.92, 1.08)) if tier != "good" else 1.0
        acq = Acquisition(contrast=contrast * (2 - jitter) if tier != "good" else 1.0, haze=haze * jitter)
        return acq, float(1.0 - (1.0 - acq.contrast) - acq.haze)
    raise ConfigError(f"unknown control {control!r}; controls: {', '.join(CONTROLS)}")
