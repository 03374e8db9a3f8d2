"""The study's bicubic x4 pairs, and the named optional degradations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from echosr_edge.data.degrade import Degradation, degrade, lr_hr_pair, lr_hr_pairs, parse_degradations
from echosr_edge.data.preprocess import bicubic_down, resize_unit
from echosr_edge.errors import ConfigError


@pytest.fixture(scope="module")
def good_image(camus_root):
    from echosr_edge.data.camus import read_camus

    return next(f.image for f in read_camus(camus_root).frames if f.quality == "good")


def _detail(image):
    return float(np.abs(cv2.Laplacian(image, cv2.CV_32F)).mean())


def test_plain_pair_is_the_studys_bicubic_x4(good_image):
    lr, hr = lr_hr_pair(good_image, hr_size=64, scale=4)
    assert hr.shape == (64, 64) and lr.shape == (16, 16)
    assert np.array_equal(hr, resize_unit(good_image, 64))
    assert np.array_equal(lr, bicubic_down(hr, 4))


def test_pairs_are_batched_nchw_and_reproducible(good_image):
    spec = parse_degradations("speckle:0.3")
    lr, hr = lr_hr_pairs([good_image, good_image], hr_size=32, scale=4, degradations=spec, seed=3)
    assert lr.shape == (2, 1, 8, 8) and hr.shape == (2, 1, 32, 32) and lr.dtype == np.float32
    again, _ = lr_hr_pairs([good_image, good_image], hr_size=32, scale=4, degradations=spec, seed=3)
    assert np.array_equal(lr, again) and not np.array_equal(lr[0], lr[1])


def test_degradations_leave_the_target_clean(good_image):
    lr, hr = lr_hr_pair(good_image, 64, 4, parse_degradations("blur:2,contrast:0.5"))
    clean_lr, clean_hr = lr_hr_pair(good_image, 64, 4)
    assert np.array_equal(hr, clean_hr) and not np.allclose(lr, clean_lr)


def test_blur_removes_detail(good_image):
    hr = resize_unit(good_image, 64)
    assert _detail(degrade(hr, [Degradation("blur", 2.0)], np.random.default_rng(0))) < 0.6 * _detail(hr)


def test_contrast_loss_shrinks_the_spread_by_its_strength(good_image):
    hr = resize_unit(good_image, 64)
    out = degrade(hr, [Degradation("contrast", 0.4)], np.random.default_rng(0))
    assert out.std() == pytest.approx(0.6 * hr.std(), rel=1e-3)
    assert out.mean() == pytest.approx(hr.mean(), abs=1e-4)


def test_speckle_is_multiplicative_noise_of_the_given_spread():
    flat = np.full((128, 128), 0.5, np.float32)
    out = degrade(flat, [Degradation("speckle", 0.2)], np.random.default_rng(1))
    assert out.mean() == pytest.approx(0.5, abs=0.01)
    assert out.std() == pytest.approx(0.5 * 0.2, rel=0.05)
    assert np.array_equal(degrade(np.zeros_like(flat), [Degradation("speckle", 0.2)], np.random.default_rng(1)), np.zeros_like(flat))


def test_spec_parsing_uses_defaults_and_keeps_order():
    assert [str(d) for d in parse_degradations("blur, speckle:0.1 ,contrast:0.25")] == ["blur:1.5", "speckle:0.1", "contrast:0.25"]
    assert parse_degradations("") == ()


def test_unknown_degradation_suggests_the_closest_name():
    with pytest.raises(ConfigError, match="unknown degradation 'speckel'.*Did you mean 'speckle'"):
        parse_degradations("speckel:0.2")
    with pytest.raises(ConfigError, match=r"contrast strength 1.5 is outside \[0.0, 1.0\]"):
        Degradation("contrast", 1.5)
