"""Statistics over per-frame predictions: patient-cluster bootstrap intervals, paired tests, power.

Frames of one patient are not independent (two views, two phases, the same anatomy) and with
repeated cross-validation every frame is tested once per repeat, so intervals resample
*patients* with replacement (all their rows, every repeat, together) — the patient-cluster
bootstrap. Paired differences resample the same patients for both arms, so the pairing is kept.

- ``accuracy_interval``: pooled accuracy and its 95 % percentile interval.
- ``paired_difference``: accuracy(a) − accuracy(b) in points, its paired cluster-bootstrap
  interval and two-sided bootstrap p-value; the exact McNemar test (``scipy.stats.binomtest`` on
  the discordant pairs) over the rows in ``mcnemar_rows`` (one repeat: each frame once, the
  test's independence assumption as close as the data allow); and the minimum detectable
  difference at 80 % power, two-sided α = 0.05: (z₀.₉₇₅ + z₀.₈) × the bootstrap standard error.
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


def _clusters(patients: np.ndarray) -> tuple[np.ndarray, int]:
    _, inverse = np.unique(patients, return_inverse=True)
    return inverse, int(inverse.max()) + 1 if len(inverse) else 0


def _boot_indices(clusters: int, n_boot: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 70_001])
    return rng.integers(0, clusters, size=(n_boot, clusters))


def _per_cluster(values: np.ndarray, inverse: np.ndarray, clusters: int) -> np.ndarray:
    return np.bincount(inverse, weights=values.astype(np.float64), minlength=clusters)


def accuracy_interval(correct, patients, n_boot: int = BOOTSTRAP, seed: int = 0) -> dict:
    """{"accuracy", "ci_low", "ci_high", "n", "patients"}: fractions; the interval resamples patients."""
    correct = np.asarray(correct, dtype=np.float64)
    patients = np.asarray(patients)
    if len(correct) == 0:
        return {"accuracy": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "patients": 0}
    inverse, k = _clusters(patients)
    hits, counts = _per_cluster(correct, inverse, k), np.bincount(inverse, minlength=k).astype(np.float64)
    idx = _boot_indices(k, n_boot, seed)
    boot = hits[idx].sum(1) / np.maximum(counts[idx].sum(1), 1)
    low, high = np.quantile(boot, [ALPHA / 2, 1 - ALPHA / 2])
    return {"accuracy": float(correct.mean()), "ci_low": float(low), "ci_high": float(high), "n": len(correct), "patients": k}


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


def paired_difference(correct_a, correct_b, patients, mcnemar_rows=None, n_boot: int = BOOTSTRAP, seed: int = 0,
                      family: int = 1) -> dict:
    """accuracy(a) − accuracy(b) in points with its paired patient-cluster bootstrap interval and tests.

    ``family``: how many comparisons this one is judged with; the Bonferroni interval
    (``ci_family_low``/``ci_family_high``) covers all of them together at 1 − α.
    """
    from scipy.stats import norm

    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    patients = np.asarray(patients)
    if len(a) != len(b) or len(a) != len(patients):
        raise ValueError("paired rows must line up: the same frames, in the same order, for both arms")
    if len(a) == 0:
        return {"points": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_bootstrap": math.nan,
                "ci_family_low": math.nan, "ci_family_high": math.nan, "family": family,
                "mcnemar": {"a_only": 0, "b_only": 0, "p": math.nan}, "mdd_points": math.nan, "n": 0}
    inverse, k = _clusters(patients)
    diff = _per_cluster(a - b, inverse, k)
    counts = np.bincount(inverse, minlength=k).astype(np.float64)
    idx = _boot_indices(k, n_boot, seed)
    boot = diff[idx].sum(1) / np.maximum(counts[idx].sum(1), 1) * 100.0
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
