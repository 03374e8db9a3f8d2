"""Calibrated confidence and the out-of-distribution threshold, fitted on held-out patients.

Temperature scaling (Guo et al. 2017): one scalar T divides the logits, chosen to minimise the
negative log-likelihood on frames the classifier never trained on; the arg-max (and so the
accuracy) is unchanged, only the confidence moves. Expected calibration error (ECE) uses 15
equal-width bins of the top probability. The out-of-distribution score of the 'cardiac' gate
is the logit margin other − cardiac; its threshold accepts a set share of held-out cardiac
frames of every quality tier: each tier's own quantile, the loosest of them kept (a threshold
fitted on all frames together lets the few poor frames fall past it). The gate's threshold is
never below 0: a frame the gate itself calls cardiac is never refused as not one.

View and phase abstain below a calibrated top probability placed by the split-conformal rule:
the k-th lowest of n held-out top probabilities, k = ⌊(n + 1)(1 − coverage)⌋, answers at least
``coverage`` of fresh frames from the same distribution in expectation (and never above 0.55). With
fewer than 1/(1 − coverage) − 1 frames (99 at 99 %) k is 0: no threshold can promise the coverage,
and none is placed (``min_confidence`` None: no frame abstains for low confidence). The minimum of
48 frames, the demo's held-out set, refused 5.8 % of 240 fresh frames where it promised 1 %.

Numpy only (a golden-section search on log T: the NLL is convex in 1/T), so the numbers can be recomputed from any backend's
logits, the deployed INT8 ones included.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15
# Three checks can each refuse a frame (the OOD gate, view, phase), so each keeps 99 % of held-out
# cardiac frames: about 97 % answered together, where one 95 % check each would leave ~86 %.
DEFAULT_COVERAGE = 0.99  # share of held-out cardiac frames the OOD threshold accepts
CONFIDENCE_COVERAGE = 0.99  # share of held-out frames the low-confidence threshold answers
MAX_MIN_CONFIDENCE = 0.55  # the low-confidence threshold never exceeds this calibrated top probability


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of N×K logits divided by ``temperature``."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of N integer ``labels`` under the tempered softmax."""
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of N×K probabilities: Σ_bins (n_b / N) · |accuracy_b − mean confidence_b|, equal-width bins."""
    if len(labels) == 0:
        return float("nan")
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - confidence[sel].mean())
    return float(ece)


def fit_temperature(logits: np.ndarray, labels: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The T in ``bounds`` minimising the NLL of ``labels`` under softmax(logits / T) (golden section on log T)."""
    if len(labels) == 0:
        return 1.0
    f = lambda log_t: nll(logits, labels, float(np.exp(log_t)))  # noqa: E731
    lo, hi = float(np.log(bounds[0])), float(np.log(bounds[1]))
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = f(a), f(b)
    while hi - lo > 1e-5:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = f(b)
    return float(np.exp((lo + hi) / 2.0))


def conformal_rank(n: int, coverage: float) -> int:
    """k = ⌊(n + 1)(1 − coverage)⌋: refusing beyond the k-th most extreme of n held-out scores keeps at
    least ``coverage`` of a fresh exchangeable frame's chances answered; 0 means n is too small to promise it."""
    return int(np.floor((n + 1) * (1.0 - coverage) + 1e-9))


def min_confidence_for(probs: np.ndarray, coverage: float = CONFIDENCE_COVERAGE, cap: float = MAX_MIN_CONFIDENCE) -> float | None:
    """The low-confidence threshold: the lower of ``cap`` and the k-th lowest top probability of these
    held-out frames (``conformal_rank``); None where they are too few to promise ``coverage``."""
    top = np.sort(probs.max(axis=1))
    k = conformal_rank(len(top), coverage)
    if k == 0:
        return None
    return float(min(cap, top[k - 1]))


def calibration_record(logits: np.ndarray, labels: np.ndarray, abstain: bool = False) -> dict:
    """Fit T on (N×K logits, N labels) and say what it did: ECE and NLL before and after, frames, bins;
    with ``abstain``, the ``min_confidence`` below which the runtime gives no answer."""
    t = fit_temperature(logits, labels)
    before, after = softmax(logits), softmax(logits, t)
    record = {
        "method": "temperature",
        "temperature": round(t, 5),
        "ece_before": round(expected_calibration_error(before, labels), 5),
        "ece_after": round(expected_calibration_error(after, labels), 5),
        "nll_before": round(nll(logits, labels), 5),
        "nll_after": round(nll(logits, labels, t), 5),
        "frames": int(len(labels)),
        "bins": ECE_BINS,
    }
    if abstain:
        threshold = min_confidence_for(after)
        record["min_confidence"] = None if threshold is None else round(threshold, 5)
        record["confidence_coverage_target"] = CONFIDENCE_COVERAGE
        record["confidence_frames_needed"] = int(np.ceil(1.0 / (1.0 - CONFIDENCE_COVERAGE) - 1.0 - 1e-9))
    return record


def ood_margin(logits: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """The 'cardiac' gate's score per frame: logit(other) − logit(cardiac); high means not a cardiac view."""
    return logits[:, labels.index("other")] - logits[:, labels.index("cardiac")]


def ood_threshold_record(in_distribution_scores: np.ndarray, coverage: float = DEFAULT_COVERAGE,
                         outlier_scores: np.ndarray | None = None, tiers: np.ndarray | None = None) -> dict:
    """The threshold accepting at least ``coverage`` of the held-out cardiac frames of every quality tier
    (``tiers``, one label per score; all one tier without), never below the gate's own boundary 0, and what it refuses."""
    scores = np.asarray(in_distribution_scores, np.float64)
    tiers = np.full(len(scores), "all") if tiers is None else np.asarray(tiers)
    per_tier = {str(t): _tier_quantile(scores[tiers == t], coverage) for t in sorted(set(tiers.tolist()))}
    # The loosest tier's quantile: each tier keeps its share (the poor frames, a minority scoring
    # nearer the boundary, are not outvoted). At least 0: where the held-out hearts all score far
    # below the gate's own decision boundary, the quantile alone would refuse frames the gate still
    # calls cardiac (measured: 4 of 120 fresh cardiac frames, poor ones mostly, with no outlier fewer refused at 0).
    threshold = max([0.0, *per_tier.values()])
    record = {
        "score": "logit margin other - cardiac",
        "threshold": threshold,
        "coverage_target": coverage,
        "rule": "loosest of the per-tier quantiles, at least 0",
        "in_distribution_frames": int(len(scores)),
        "in_distribution_accepted": round(float((scores <= threshold).mean()), 5) if len(scores) else None,
        "tiers": {t: {"frames": int((tiers == t).sum()), "accepted": round(float((scores[tiers == t] <= threshold).mean()), 5)}
                  for t in per_tier},
    }
    if outlier_scores is not None and len(outlier_scores):
        record["outlier_frames"] = int(len(outlier_scores))
        record["outliers_refused"] = round(float((np.asarray(outlier_scores) > threshold).mean()), 5)
    return record


def _tier_quantile(scores: np.ndarray, coverage: float) -> float:
    """The score at or below which ``coverage`` of one tier's held-out frames lie (its maximum when they are few)."""
    return float(np.quantile(scores, coverage, method="higher")) if len(scores) else 0.0
