"""PSNR and SSIM follow the stated convention, agree with scikit-image, and need only numpy."""

import math
import subprocess
import sys

import numpy as np
import pytest

from echosr_edge.metrics import mean_psnr, mean_ssim, psnr, ssim


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    ref = rng.random((40, 48)).astype(np.float32)
    return ref, np.clip(ref + rng.normal(0, 0.05, ref.shape), 0, 1).astype(np.float32)


def test_psnr_matches_scikit_image_with_data_range_one():
    metrics = pytest.importorskip("skimage.metrics")
    ref, test = _pair()
    assert psnr(ref, test) == pytest.approx(metrics.peak_signal_noise_ratio(ref, test, data_range=1.0), abs=1e-6)


@pytest.mark.parametrize("seed, shape", [(0, (40, 48)), (1, (11, 11)), (2, (96, 64))])
def test_ssim_is_wang_et_al_gaussian_window_on_range_one(seed, shape):
    metrics = pytest.importorskip("skimage.metrics", reason="the reference SSIM is scikit-image's ('train' extra)")
    rng = np.random.default_rng(seed)
    ref = rng.random(shape).astype(np.float32)
    test = np.clip(ref + rng.normal(0, 0.05, shape), 0, 1).astype(np.float32)
    expected = metrics.structural_similarity(
        ref.astype(np.float64), test.astype(np.float64), data_range=1.0, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False,
    )
    assert ssim(ref, test) == pytest.approx(expected, abs=1e-6)
    assert ssim(ref, ref) == pytest.approx(1.0, abs=1e-12)
    assert ssim(ref, test) != pytest.approx(metrics.structural_similarity(ref, test, data_range=1.0))


def test_ssim_needs_no_scikit_image():
    code = (
        "import sys; sys.modules['skimage'] = None\n"
        "import numpy as np\n"
        "from echosr_edge.metrics import ssim\n"
        "print(ssim(np.eye(16), np.eye(16)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == pytest.approx(1.0)


def test_ssim_refuses_an_image_smaller_than_its_window():
    with pytest.raises(ValueError, match="at least 11×11"):
        ssim(np.zeros((10, 40)), np.zeros((10, 40)))


def test_border_crop_ignores_the_frame_edge():
    ref, _ = _pair()
    test = ref.copy()
    test[:2] = 1.0 - test[:2]
    assert math.isfinite(psnr(ref, test)) and psnr(ref, test, crop=2) == math.inf


def test_means_over_stacks_skip_perfect_matches():
    ref, test = _pair()
    stack_ref, stack_test = np.stack([ref, ref])[:, None], np.stack([test, ref])[:, None]
    assert mean_psnr(stack_ref, stack_test) == pytest.approx(psnr(ref, test))
    assert mean_ssim(stack_ref, stack_test) == pytest.approx((ssim(ref, test) + 1.0) / 2)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shape mismatch"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
