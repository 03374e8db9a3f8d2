"""Statistics over per-frame predictions: two-level bootstrap intervals, paired tests, power.

Two sources of chance move a grid's accuracies, and an interval must hold both:

- *which patients were tested*: frames of one patient are not independent (two views, two
  phases, the same anatomy), so intervals resample patients with replacement, all their rows
  together (the patient-cluster bootstrap);
- *which training run made the model*: with repeated cross-validation every repeat retrains every
  model on a new fold split with new seeds. Four seeds of one view classifier have scored 56 to
  100 % on another tier, so an interval over patients alone is far too narrow wherever that
  spread enters. When the rows carry two or more repeats, each draw also resamples the repeats
  with replacement, crossed with the patients (a patient is tested once in every repeat): the
  two-way "pigeonhole" bootstrap of Owen (2007), mildly conservative (it errs on the wide side;
  Owen & Eckles 2012), as the multi-bootstrap over seeds and test items of Sellam et al. (2022)
  does for pre-training seeds.
  With one repeat only patients are resampled and the result says so (``resampled``).

Paired differences draw the same patients and repeats for both arms, so the pairing is kept.

- ``accuracy_interval``: pooled accuracy and its 95 % percentile interval.
- ``paired_difference``: accuracy(a) − accuracy(b) in points, its paired bootstrap interval and
  two-sided bootstrap p-value, the difference in each repeat (``per_repeat``: their spread is the
  training runs' own); the exact McNemar test (``scipy.stats.binomtest`` on the discordant pairs)
  over the rows in ``mcnemar_rows`` (one repeat: each frame once, the test's independence
  assumption as close as the data allow); and the minimum detectable difference at 80 % power,
  two-sided α = 0.05: (z₀.₉₇₅ + z₀.₈) × the bootstrap standard error.
- Multiplicity: a report makes many comparisons, and "every interval includes 0" is a claim
  about all of them at once. ``paired_difference(..., family=m)`` also returns the Bonferroni
  interval (percentiles α/2m, 1 − α/2m of the same bootstrap draws) and ``holm`` adjusts a
  family's McNemar p-values (Holm's step-down: controls the family-wise error at α).
"""

from __future__ import annotations

import math

import numpy as np

BOOTSTRAP = 2000
ALPHA = 0.05
POWER = 0.80


def _levels(values) -> tuple[np.ndarray, int]:
    _, inverse = np.unique(np.asarray(values), return_inverse=True)
    return inverse, int(inverse.max()) + 1 if len(inverse) else 0


def _weights(levels: int, n_boot: int, seed: int, stream: int) -> np.ndarray:
    """How often each level is drawn in each resample: (n_boot, levels) counts of ``levels`` draws with replacement."""
    rng = np.random.default_rng([seed, stream])
    draws = rng.integers(0, levels, size=(n_boot, levels))
    offsets = (np.arange(n_boot) * levels)[:, None]
    return np.bincount((draws + offsets).ravel(), minlength=n_boot * levels).reshape(n_boot, levels).astype(np.float64)


def _bootstrap_means(values: np.ndarray, patients, repeats, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Resampled means of ``values`` (patients crossed with repeats) and the mean of each repeat.

    Returns (draws, per-repeat means, patients, repeats). With one repeat only patients are drawn.
    """
    patient, k = _levels(patients)
    run, r = _levels(np.zeros(len(values), int) if repeats is None else repeats)
    sums = np.zeros((r, k))
    counts = np.zeros((r, k))
    np.add.at(sums, (run, patient), values)
    np.add.at(counts, (run, patient), 1.0)
    patient_w = _weights(k, n_boot, seed, 70_001)
    run_w = _weights(r, n_boot, seed, 70_002) if r > 1 else np.ones((n_boot, 1))
    draws = ((run_w @ sums) * patient_w).sum(1) / np.maximum(((run_w @ counts) * patient_w).sum(1), 1)
    per_repeat = sums.sum(1) / np.maximum(counts.sum(1), 1)
    return draws, per_repeat, k, r


def _resampled(repeats: int) -> str:
    return "patients and repeats" if repeats > 1 else "patients"


def accuracy_interval(correct, patients, repeats=None, n_boot: int = BOOTSTRAP, seed: int = 0) -> dict:
    """{"accuracy", "ci_low", "ci_high", "n", "patients", "repeats", "resampled"}: fractions.

    ``repeats``: each row's repeat (training run); with two or more, the interval resamples them too.
    """
    correct = np.asarray(correct, dtype=np.float64)
    if len(correct) == 0:
        return {"accuracy": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "patients": 0, "repeats": 0,
                "resampled": "patients"}
    draws, _, k, r = _bootstrap_means(correct, patients, repeats, n_boot, seed)
    low, high = np.quantile(draws, [ALPHA / 2, 1 - ALPHA / 2])
    return {"accuracy": float(correct.mean()), "ci_low": float(low), "ci_high": float(high), "n": len(correct), "patients": k,
            "repeats": r, "resampled": _resampled(r)}


def mcnemar_exact(correct_a, correct_b) -> dict:
    """Exact McNemar: {"a_only", "b_only", "p"}; ``p`` is 1 when no pair is discordant."""
    from scipy.stats import binomtest

    a = np.asarray(correct_a, bool)
    b = np.asarray(correct_b, bool)
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    p = 1.0 if a_only + b_only == 0 else float(binomtest(a_only, a_only + b_only, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p": p}


def holm(p_values) -> list[float]:
    """Holm-adjusted p-values (same order): min(1, max over the step-down of (m − rank) × p)."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def with_holm(family: list[dict]) -> list[dict]:
    """``family``'s paired differences with ``mcnemar['p_holm']`` set on each one that has a p."""
    finite = [c for c in family if np.isfinite(c["mcnemar"]["p"])]
    for c, p in zip(finite, holm([c["mcnemar"]["p"] for c in finite])):
        c["mcnemar"]["p_holm"] = p
    return family


def paired_difference(correct_a, correct_b, patients, repeats=None, mcnemar_rows=None, n_boot: int = BOOTSTRAP,
                      seed: int = 0, family: int = 1) -> dict:
    """accuracy(a) − accuracy(b) in points with its paired bootstrap interval and tests.

    ``repeats``: each row's repeat; with two or more, every draw resamples repeats as well as
    patients, so the interval holds the training runs' spread (``per_repeat`` lists each repeat's
    difference). ``family``: how many comparisons this one is judged with; the Bonferroni
    interval (``ci_family_low``/``ci_family_high``) covers all of them together at 1 − α.
    """
    from scipy.stats import norm

    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    if len(a) != len(b) or len(a) != len(patients) or (repeats is not None and len(repeats) != len(a)):
        raise ValueError("paired rows must line up: the same frames, in the same order, for both arms")
    if len(a) == 0:
        return {"points": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_bootstrap": math.nan,
                "ci_family_low": math.nan, "ci_family_high": math.nan, "family": family,
                "mcnemar": {"a_only": 0, "b_only": 0, "p": math.nan}, "mdd_points": math.nan, "n": 0, "patients": 0,
                "repeats": 0, "resampled": "patients", "per_repeat": []}
    draws, per_repeat, k, r = _bootstrap_means(a - b, patients, repeats, n_boot, seed)
    boot = draws * 100.0
    low, high = np.quantile(boot, [ALPHA / 2, 1 - ALPHA / 2])
    family_low, family_high = np.quantile(boot, [ALPHA / (2 * family), 1 - ALPHA / (2 * family)])
    p_boot = min(1.0, 2.0 * min(float((boot <= 0).mean()), float((boot >= 0).mean())))
    rows = np.ones(len(a), bool) if mcnemar_rows is None else np.asarray(mcnemar_rows, bool)
    se = float(boot.std(ddof=1))
    mdd = (norm.ppf(1 - ALPHA / 2) + norm.ppf(POWER)) * se
    return {
        "points": float((a - b).mean() * 100.0),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_bootstrap": p_boot,
        "ci_family_low": float(family_low),
        "ci_family_high": float(family_high),
        "family": family,
        "mcnemar": mcnemar_exact(a[rows] > 0.5, b[rows] > 0.5),
        "se_points": se,
        "mdd_points": float(mdd),
        "n": len(a),
        "patients": k,
        "repeats": r,
        "resampled": _resampled(r),
        "per_repeat": [float(v * 100.0) for v in per_repeat],
    }


def confusion(labels, predicted, classes: int) -> list[list[int]]:
    """``confusion[i][j]``: rows of class i predicted as class j."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(labels, int), np.asarray(predicted, int)), 1)
    return matrix.tolist()


def balanced_accuracy(matrix: list[list[int]]) -> float:
    """Mean recall over the classes present."""
    m = np.asarray(matrix, dtype=np.float64)
    present = m.sum(1) > 0
    return float(np.mean(np.diag(m)[present] / m.sum(1)[present])) if present.any() else math.nan
