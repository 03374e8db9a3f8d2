"""The grid's statistics: patient-cluster bootstrap intervals, exact McNemar, power; the arms' chain."""

import numpy as np
import pytest

pytest.importorskip("scipy", reason="the grid's statistics need scipy (the 'train' extra)")

from echosr_edge.data.preprocess import bicubic_up, downscale
from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError
from echosr_edge.train.arms import enhance, fidelity, sector_mask
from echosr_edge.train.experiment_config import get_config
from echosr_edge.train.grid_stats import (
    accuracy_interval,
    balanced_accuracy,
    confusion,
    holm,
    mcnemar_exact,
    paired_difference,
)


def test_cluster_interval_is_wider_when_a_patients_frames_agree():
    rng = np.random.default_rng(0)
    correct = rng.random(200) < 0.7
    independent = accuracy_interval(correct, np.arange(200))
    clustered = accuracy_interval(np.repeat(correct[:50], 4), np.repeat(np.arange(50), 4))
    assert clustered["ci_high"] - clustered["ci_low"] > 1.5 * (independent["ci_high"] - independent["ci_low"])
    assert clustered["patients"] == 50 and independent["n"] == 200


def test_mcnemar_counts_discordant_pairs_only():
    a = [True] * 10 + [False] * 2 + [True] * 30
    b = [False] * 10 + [True] * 2 + [True] * 30
    result = mcnemar_exact(a, b)
    assert (result["a_only"], result["b_only"]) == (10, 2)
    assert result["p"] == pytest.approx(0.0386, abs=1e-3)  # binomial(10 of 12, 1/2), two-sided


def test_paired_difference_interval_excludes_zero_for_a_clear_gain_and_not_for_none():
    rng = np.random.default_rng(1)
    patients = np.repeat(np.arange(60), 4)
    base = rng.random(240) < 0.6
    better = base | (rng.random(240) < 0.6)
    gain = paired_difference(better, base, patients, n_boot=500)
    assert gain["points"] > 0 and gain["ci_low"] > 0 and gain["mcnemar"]["p"] < 0.001
    same = paired_difference(base, base, patients, n_boot=500)
    assert same["points"] == 0 and same["ci_low"] <= 0 <= same["ci_high"]


def _repeated(gains: list[float], patients: int = 80, frames: int = 4, seed: int = 4):
    """Rows of ``len(gains)`` repeats in which arm a beats arm b by ``gains[r]`` (a fraction) on average."""
    rng = np.random.default_rng(seed)
    a, b, who, run = [], [], [], []
    for r, gain in enumerate(gains):
        base = rng.random(patients * frames) < 0.6
        flip = rng.random(patients * frames) < abs(gain) / 0.4 if gain > 0 else rng.random(patients * frames) < abs(gain) / 0.6
        a.append(base | flip if gain > 0 else base & ~flip)
        b.append(base)
        who.append(np.repeat(np.arange(patients), frames))
        run.append(np.full(patients * frames, r))
    return np.concatenate(a), np.concatenate(b), np.concatenate(who), np.concatenate(run)


def test_with_one_repeat_the_two_level_bootstrap_is_the_patient_bootstrap():
    a, b, patients, repeats = _repeated([0.1])
    two_level = paired_difference(a, b, patients, repeats, n_boot=500)
    patients_only = paired_difference(a, b, patients, n_boot=500)
    assert (two_level["ci_low"], two_level["ci_high"]) == pytest.approx((patients_only["ci_low"], patients_only["ci_high"]))
    assert two_level["resampled"] == "patients" and two_level["repeats"] == 1


def test_repeats_that_disagree_widen_the_interval_to_include_zero():
    a, b, patients, repeats = _repeated([0.25, -0.15, 0.15])
    runs_left_out = paired_difference(a, b, patients, n_boot=2000)
    runs_in = paired_difference(a, b, patients, repeats, n_boot=2000)
    assert runs_left_out["ci_low"] > 0  # three training runs pooled as if one: a false "gain"
    assert runs_in["ci_low"] < 0 < runs_in["ci_high"] and runs_in["resampled"] == "patients and repeats"
    assert runs_in["per_repeat"][0] > 15 and runs_in["per_repeat"][1] < -8 and runs_in["repeats"] == 3
    assert runs_in["mdd_points"] > runs_left_out["mdd_points"]


def test_a_gain_every_repeat_agrees_on_still_excludes_zero():
    a, b, patients, repeats = _repeated([0.15, 0.15, 0.15])
    result = paired_difference(a, b, patients, repeats, n_boot=2000)
    assert result["ci_low"] > 0 and all(v > 8 for v in result["per_repeat"])


def test_accuracy_intervals_resample_repeats_too():
    a, _, patients, repeats = _repeated([0.3, -0.3, 0.0])
    pooled = accuracy_interval(a, patients, n_boot=1000)
    crossed = accuracy_interval(a, patients, repeats, n_boot=1000)
    assert crossed["ci_high"] - crossed["ci_low"] > 2 * (pooled["ci_high"] - pooled["ci_low"])
    assert crossed["repeats"] == 3 and crossed["accuracy"] == pooled["accuracy"]


def test_holm_multiplies_the_smallest_p_by_the_family_size_and_keeps_the_order_monotone():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.3, 0.9]) == pytest.approx([0.6, 0.9])


def test_holm_is_never_above_one():
    assert max(holm([0.5, 0.6, 0.7])) == 1.0


def test_a_family_wise_interval_contains_the_single_interval_and_widens_with_the_family():
    rng = np.random.default_rng(3)
    patients = np.repeat(np.arange(40), 4)
    a, b = rng.random(160) < 0.7, rng.random(160) < 0.6
    one = paired_difference(a, b, patients, n_boot=4000, family=1)
    many = paired_difference(a, b, patients, n_boot=4000, family=20)
    assert (one["ci_family_low"], one["ci_family_high"]) == pytest.approx((one["ci_low"], one["ci_high"]))
    assert many["ci_family_low"] < many["ci_low"] and many["ci_family_high"] > many["ci_high"]
    assert many["family"] == 20


def test_minimum_detectable_difference_shrinks_with_more_patients():
    rng = np.random.default_rng(2)
    small = paired_difference(rng.random(80) < 0.7, rng.random(80) < 0.7, np.repeat(np.arange(20), 4), n_boot=500)
    large = paired_difference(rng.random(800) < 0.7, rng.random(800) < 0.7, np.repeat(np.arange(200), 4), n_boot=500)
    assert large["mdd_points"] < small["mdd_points"] / 2


def test_balanced_accuracy_is_the_mean_recall():
    matrix = confusion([0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 0], 2)
    assert matrix == [[3, 1], [1, 1]]
    assert balanced_accuracy(matrix) == pytest.approx((0.75 + 0.5) / 2)


def _frame(image):
    return Frame("patient0001", "2CH", "ED", "poor", image, (0.3, 0.3), None)


def _sector_image(size=64):
    yy, xx = np.mgrid[0:size, 0:size]
    theta = np.arctan2(xx - size / 2, yy + 1)
    inside = (np.abs(theta) < 0.6) & (np.hypot(xx - size / 2, yy) < size * 0.95)
    texture = (np.sin(xx / 2.0) * np.cos(yy / 3.0) * 80 + 128).astype(np.uint8)
    return np.where(inside, texture, 0).astype(np.uint8)


def test_every_arm_returns_uint8_frames_of_the_chain_size():
    frames = [_frame(_sector_image(80))]
    for arm in ("none", "bicubic", "nlmeans"):
        out = enhance(arm, frames, 32, 4, "down-up")
        assert out[0].image.shape == (32, 32) and out[0].image.dtype == np.uint8 and out[0].meta["arm"] == arm
    assert enhance("sr", frames, 32, 4, "direct", _nearest_x4)[0].image.shape == (128, 128)


def test_sector_fidelity_excludes_the_black_background():
    frames = [_frame(_sector_image(64))]
    whole, sector = (fidelity("bicubic", frames, 64, 4, "down-up")[k] for k in ("psnr", "psnr_sector"))
    assert sector < whole  # the black outside the sector is reproduced for free and flatters the whole-frame PSNR
    assert 0.2 < sector_mask(frames[0].image / 255.0).mean() < 0.9


def test_direct_mode_fidelity_names_its_bicubic_reference():
    frames = [_frame(_sector_image(64))]
    assert fidelity("sr", frames, 32, 4, "direct", _nearest_x4)["reference"].startswith("bicubic ↑4 of HR")
    assert fidelity("nlmeans", frames, 32, 4, "direct")["reference"].startswith("HR")


def _nearest_x4(lr: np.ndarray) -> np.ndarray:
    """A stand-in SR model for N×1×h×w batches: nearest-neighbour ×4."""
    return np.repeat(np.repeat(lr, 4, axis=2), 4, axis=3)


def test_the_area_downsampler_damps_a_pattern_finer_than_lr_that_bicubic_aliases():
    x = np.arange(64)
    stripes = np.tile((0.5 + 0.5 * np.cos(2 * np.pi * x / 4.5)).astype(np.float32), (64, 1))  # above the LR Nyquist at ×4
    area, cubic = downscale(stripes, 4, "area"), downscale(stripes, 4, "bicubic")
    assert area.std() < 0.06  # anti-aliased: block means, close to the stripes' average grey
    assert cubic.std() > 0.25  # point sampling folds the stripes into a false, coarser pattern


def test_down_up_arms_restore_from_the_configured_downsampler():
    frames = [_frame(_sector_image(64))]
    area = enhance("bicubic", frames, 64, 4, "down-up", downsample="area")[0].image
    cubic = enhance("bicubic", frames, 64, 4, "down-up")[0].image
    hr = frames[0].image.astype(np.float32) / 255.0
    expected = (np.clip(bicubic_up(downscale(hr, 4, "area"), 4), 0, 1) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(area, expected) and not np.array_equal(area, cubic)


def test_an_unknown_downsampler_is_refused_by_name():
    with pytest.raises(ConfigError, match="area"):
        get_config("smoke", downsample="lanczos")


def _table2(diagonal_low: float) -> dict:
    cell = {"accuracy": 0.6, "ci_low": diagonal_low, "ci_high": 0.8, "n": 40}
    return {task: {a: {b: cell for b in ("good", "medium", "poor")} for a in ("good", "medium", "poor")} for task in ("view", "phase")}


def test_a_classifier_whose_own_tier_interval_reaches_chance_is_flagged_as_not_learned():
    from echosr_edge.train.grid_summary import learning_check

    at_chance = learning_check(_table2(0.45))
    assert not at_chance["view"]["good"]["learned"] and at_chance["phase"]["poor"]["chance"] == 0.5
    assert learning_check(_table2(0.55))["phase"]["medium"]["learned"]


def test_train_on_enhanced_classifiers_are_checked_on_poor_frames_through_their_own_arm():
    from echosr_edge.train.grid_summary import enhanced_learning_check

    def cell(low):
        return {"accuracy": 0.6, "ci_low": low, "ci_high": 0.8, "n": 40}

    fig4 = {"view": {"train_on_enhanced": {"none": {"poor": cell(0.55)}, "srgan": {"poor": cell(0.40)}}}}
    checked = enhanced_learning_check(fig4)["view"]
    assert checked["none"]["learned"] and not checked["srgan"]["learned"]
