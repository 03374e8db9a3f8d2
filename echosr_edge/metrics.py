"""Image-fidelity metrics (numpy; SSIM through scikit-image). Torch-free: the runtime uses them.

Convention, used everywhere the product reports PSNR or SSIM:

- images are grey float arrays in [0, 1]; the data range is 1.0;
- the whole image is compared, no border crop (``crop=0``). CAMUS frames are a sector on a black
  background, so the image border is background and cropping it would change little; callers
  that want the SR literature's habit of cropping ``scale`` pixels pass ``crop=scale``;
- PSNR is 10·log10(1 / MSE), the formula of scikit-image's ``peak_signal_noise_ratio`` (a test
  checks they agree); a perfect match is +inf and means skip it;
- SSIM is scikit-image's ``structural_similarity`` with the settings of Wang et al. (2004): an
  11×11 Gaussian window, σ = 1.5, population covariance (``gaussian_weights=True``,
  ``use_sample_covariance=False``), K1 = 0.01, K2 = 0.03.
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


def ssim(reference: np.ndarray, test: np.ndarray, crop: int = 0) -> float:
    """SSIM of two H×W images in [0, 1] (scikit-image, Wang et al. 2004 settings, range 1.0)."""
    from echosr_edge.errors import import_optional

    metrics = import_optional("skimage.metrics", "train")
    ref, out = _pair(np.squeeze(reference), np.squeeze(test), crop)
    if ref.ndim != 2:
        raise ValueError(f"SSIM takes one grey H×W image, got shape {reference.shape}")
    return float(
        metrics.structural_similarity(
            ref, out, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )


def mean_psnr(references: np.ndarray, tests: np.ndarray, crop: int = 0) -> float:
    """Mean per-image PSNR over N×… stacks (finite values only; inf if all identical)."""
    values = [psnr(r, t, crop) for r, t in zip(references, tests)]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.inf


def mean_ssim(references: np.ndarray, tests: np.ndarray, crop: int = 0) -> float:
    """Mean per-image SSIM over N×1×H×W or N×H×W stacks in [0, 1]."""
    values = [ssim(r, t, crop) for r, t in zip(references, tests)]
    return float(np.mean(values)) if values else math.nan
