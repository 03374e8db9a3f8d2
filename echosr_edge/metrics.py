"""Image-fidelity and agreement metrics (numpy; SSIM through scikit-image when installed).

Convention: images are float arrays in [0, 1], data range 1.0, whole image (no border crop).
PSNR is 10·log10(1 / MSE), as scikit-image's ``peak_signal_noise_ratio`` computes it; a perfect
match is reported as +inf.
"""

from __future__ import annotations

import math

import numpy as np


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of ``test`` against ``reference`` (same shape, [0, 1])."""
    if reference.shape != test.shape:
        raise ValueError(f"shape mismatch: {reference.shape} vs {test.shape}")
    mse = float(np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """SSIM (scikit-image, Gaussian-free 7×7 window, data range 1.0) of two H×W images."""
    from echosr_edge.errors import import_optional

    metrics = import_optional("skimage.metrics", "train")
    return float(
        metrics.structural_similarity(
            reference.astype(np.float64), test.astype(np.float64), data_range=1.0
        )
    )


def mean_psnr(references: np.ndarray, tests: np.ndarray) -> float:
    """Mean per-image PSNR over N×… stacks (finite values only; inf if all identical)."""
    values = [psnr(r, t) for r, t in zip(references, tests)]
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.inf
