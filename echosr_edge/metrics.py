"""Image-fidelity metrics in numpy alone. Torch-free: the runtime uses them on a core install.

Convention, used everywhere the product reports PSNR or SSIM:

- images are grey float arrays in [0, 1]; the data range is 1.0;
- the whole image is compared, no border crop (``crop=0``). CAMUS frames are a sector on a black
  background, so the image border is background and cropping it would change little; callers
  that want the SR literature's habit of cropping ``scale`` pixels pass ``crop=scale``;
- PSNR is 10·log10(1 / MSE), the formula of scikit-image's ``peak_signal_noise_ratio`` (a test
  checks they agree); a perfect match is +inf and means skip it;
- SSIM has the settings of Wang et al. (2004): an 11×11 Gaussian window, σ = 1.5, population
  covariance, K1 = 0.01, K2 = 0.03, averaged over the positions where the window fits inside the
  image. It is computed here in numpy and equals scikit-image's ``structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)`` (a test
  checks it to 1e-6), so a device never needs scikit-image.
"""

from __future__ import annotations

import math

import numpy as np


def _crop(image: np.ndarray, crop: int) -> np.ndarray:
    if crop <= 0:
        return image
    if min(image.shape[-2:]) <= 2 * crop:
        raise ValueError(f"crop {crop} leaves nothing of a {image.shape[-2:]} image")
    return image[..., crop:-crop, crop:-crop]


def _pair(reference: np.ndarray, test: np.ndarray, crop: int) -> tuple[np.ndarray, np.ndarray]:
    if reference.shape != test.shape:
        raise ValueError(f"shape mismatch: {reference.shape} vs {test.shape}")
    return _crop(reference.astype(np.float64), crop), _crop(test.astype(np.float64), crop)


def psnr(reference: np.ndarray, test: np.ndarray, crop: int = 0) -> float:
    """PSNR in dB of ``test`` against ``reference`` (same shape, [0, 1], data range 1.0)."""
    ref, out = _pair(reference, test, crop)
    mse = float(np.mean((ref - out) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


SSIM_SIGMA = 1.5
SSIM_RADIUS = int(3.5 * SSIM_SIGMA + 0.5)  # scikit-image truncates its Gaussian at 3.5 σ: an 11×11 window
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _gaussian_window() -> np.ndarray:
    x = np.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (x / SSIM_SIGMA) ** 2)
    return weights / weights.sum()


def _local_mean(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The window-weighted mean at every position where the window fits inside ``image`` (separable)."""
    size = len(window)
    rows = sum(w * image[i : image.shape[0] - size + 1 + i] for i, w in enumerate(window))
    return sum(w * rows[:, i : image.shape[1] - size + 1 + i] for i, w in enumerate(window))


def ssim(reference: np.ndarray, test: np.ndarray, crop: int = 0) -> float:
    """SSIM of two H×W images in [0, 1] (Wang et al. 2004 settings, range 1.0; see the module docstring)."""
    ref, out = _pair(np.squeeze(reference), np.squeeze(test), crop)
    if ref.ndim != 2:
        raise ValueError(f"SSIM takes one grey H×W image, got shape {reference.shape}")
    size = 2 * SSIM_RADIUS + 1
    if min(ref.shape) < size:
        raise ValueError(f"SSIM needs an image of at least {size}×{size}, got {ref.shape}")
    window = _gaussian_window()
    mu_x, mu_y = _local_mean(ref, window), _local_mean(out, window)
    var_x = _local_mean(ref * ref, window) - mu_x * mu_x
    var_y = _local_mean(out * out, window) - mu_y * mu_y
    cov = _local_mean(ref * out, window) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # data range 1.0
    index = (2 * mu_x * mu_y + c1) * (2 * cov + c2) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(index.mean())


def mean_psnr(references: np.ndarray, tests: np.ndarray, crop: int = 0) -> float:
    """Mean per-image PSNR over N×… stacks (finite values only; inf if all identical)."""
    values = [psnr(r, t, crop) for r, t in zip(references, tests)]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.inf


def mean_ssim(references: np.ndarray, tests: np.ndarray, crop: int = 0) -> float:
    """Mean per-image SSIM over N×1×H×W or N×H×W stacks in [0, 1]."""
    values = [ssim(r, t, crop) for r, t in zip(references, tests)]
    return float(np.mean(values)) if values else math.nan
