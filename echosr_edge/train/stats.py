"""Summary statistics over seeds: mean and a 95% confidence interval (Student's t)."""

from __future__ import annotations

import math

import numpy as np


def mean_ci(values: list[float], confidence: float = 0.95) -> dict:
    """{"mean", "ci_low", "ci_high", "half_width", "n", "values"}; one value has no interval (NaN)."""
    a = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    n = len(a)
    if n == 0:
        return {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan, "half_width": math.nan, "n": 0, "values": []}
    mean = float(a.mean())
    if n == 1:
        half = math.nan
    else:
        from scipy import stats

        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * a.std(ddof=1) / math.sqrt(n))
    return {
        "mean": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "half_width": half,
        "n": n,
        "values": [float(v) for v in a],
    }


def improvement(before: float, after: float) -> dict:
    """Change from ``before`` to ``after`` accuracy (fractions) in percentage points and relative %."""
    points = (after - before) * 100.0
    relative = (after - before) / before * 100.0 if before else math.nan
    return {"points": points, "relative_percent": relative}
