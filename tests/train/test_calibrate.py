"""Calibration: temperature scaling on held-out logits, ECE, and the thresholds abstention uses."""

import numpy as np
import pytest

from echosr_edge.train.calibrate import (
    MAX_MIN_CONFIDENCE,
    calibration_record,
    conformal_rank,
    expected_calibration_error,
    fit_temperature,
    min_confidence_for,
    ood_threshold_record,
    softmax,
)


def overconfident(n: int = 4000, temperature: float = 3.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits that are well calibrated once divided by ``temperature``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    calibrated = rng.normal(0.0, 1.0, (n, 2))
    calibrated[np.arange(n), labels] += 1.0
    # Draw labels from the calibrated probabilities, so T is the true answer.
    p = softmax(calibrated)
    labels = (rng.random(n) < p[:, 1]).astype(int)
    return calibrated * temperature, labels


def test_fit_temperature_recovers_the_temperature_of_overconfident_logits():
    logits, labels = overconfident(temperature=3.0)
    assert fit_temperature(logits, labels) == pytest.approx(3.0, rel=0.15)


def test_temperature_scaling_lowers_ece_and_keeps_every_prediction():
    logits, labels = overconfident()
    record = calibration_record(logits, labels)
    assert record["ece_after"] < record["ece_before"] / 2
    assert record["nll_after"] <= record["nll_before"]
    assert (softmax(logits, record["temperature"]).argmax(1) == logits.argmax(1)).all()


def test_ece_is_zero_when_confidence_matches_accuracy_in_every_bin():
    probs = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probs, np.array([0, 0, 0, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probs, np.array([1, 1, 1, 1])) == pytest.approx(0.75)


def test_the_low_confidence_threshold_keeps_99_percent_of_fresh_frames_answered_and_never_exceeds_the_cap():
    # Top probabilities uniform on [0.5, 0.7]: a threshold t answers 1 - (t - 0.5) / 0.2 of fresh frames.
    rng = np.random.default_rng(1)
    answered = []
    for _ in range(400):  # the promise holds on average over held-out sets (split-conformal)
        top = rng.uniform(0.5, 0.7, 349)
        answered.append(1 - (min_confidence_for(np.stack([top, 1 - top], axis=1)) - 0.5) / 0.2)
    assert np.mean(answered) >= 0.99
    sure = np.array([[0.99, 0.01]] * 200)
    assert min_confidence_for(sure) == MAX_MIN_CONFIDENCE


def test_too_few_held_out_frames_to_promise_the_coverage_place_no_low_confidence_threshold():
    # 99 % needs 99 frames: the lowest of 98 would refuse 1 in 99 fresh frames on average, more than 1 %.
    top = np.linspace(0.5, 1.0, 98)
    assert min_confidence_for(np.stack([top, 1 - top], axis=1)) is None
    assert conformal_rank(98, 0.99) == 0 and conformal_rank(99, 0.99) == 1 and conformal_rank(399, 0.99) == 4


def test_a_record_from_few_frames_says_no_frame_abstains_for_low_confidence():
    logits, labels = overconfident(48)
    record = calibration_record(logits, labels, abstain=True)
    assert record["min_confidence"] is None and record["confidence_frames_needed"] == 99


def test_only_view_and_phase_style_records_carry_a_minimum_confidence():
    logits, labels = overconfident(200)
    assert 0 < calibration_record(logits, labels, abstain=True)["min_confidence"] <= MAX_MIN_CONFIDENCE
    assert "min_confidence" not in calibration_record(logits, labels)


def test_the_ood_threshold_accepts_the_target_share_of_cardiac_frames_and_says_what_it_refuses():
    rng = np.random.default_rng(2)
    cardiac, outliers = rng.normal(-6, 1, 500), rng.normal(6, 1, 100)
    record = ood_threshold_record(cardiac, 0.99, outliers)
    assert (cardiac <= record["threshold"]).mean() >= 0.99
    assert record["in_distribution_accepted"] >= 0.99 and record["outliers_refused"] == 1.0


def test_the_ood_threshold_never_refuses_a_frame_the_gate_calls_cardiac():
    cardiac = np.random.default_rng(3).normal(-8, 1, 200)  # every held-out heart far on the cardiac side
    assert ood_threshold_record(cardiac, 0.99)["threshold"] == 0.0


def test_the_stored_threshold_accepts_99_percent_of_each_tiers_held_out_cardiac_frames():
    rng = np.random.default_rng(4)
    # Poor frames: a minority scoring nearer the boundary; fitted on all frames together the threshold lets them fall past.
    good, poor = rng.normal(-9, 1, 900), rng.normal(1, 1, 100)
    scores, tiers = np.concatenate([good, poor]), np.array(["good"] * 900 + ["poor"] * 100)
    pooled = ood_threshold_record(scores, 0.99)
    assert (poor <= pooled["threshold"]).mean() < 0.99
    record = ood_threshold_record(scores, 0.99, tiers=tiers)
    assert (good <= record["threshold"]).mean() >= 0.99 and (poor <= record["threshold"]).mean() >= 0.99
    assert record["tiers"]["poor"]["frames"] == 100 and record["tiers"]["poor"]["accepted"] >= 0.99
