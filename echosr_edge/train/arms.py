"""The grid's enhancement arms: what a frame becomes before a classifier sees it, and SR fidelity.

Every arm runs through one chain, so a difference between arms is the arm's and not the
chain's. The frame is first resized to the HR size (``resize_unit``); then, by mode:

- ``down-up`` (the study's reading): the arm restores ↓scale(HR) to the HR size (↓: bicubic, or
  ``downsample='area'``, the anti-aliased block mean, with SR trained on the same kind of pairs):
  ``bicubic`` is bicubic ↑scale, an SR arm is SR(LR); ``none`` is HR itself (the identity).
- ``direct``: the arm enlarges HR itself ×scale: ``bicubic`` is bicubic ↑scale(HR), an SR arm
  is SR(HR); ``none`` is HR. The classifier resizes the larger frame to its input size.
- ``nlmeans`` (the classical restorer, both modes): OpenCV non-local means on the HR frame as
  uint8 (``cv2.fastNlMeansDenoising``, h = 10, 7×7 template, 21×21 search), no resampling.

Arms return uint8 frame records (``meta['arm']`` set), so the classifier's own resize to its
input size is the same for every arm.

Fidelity is measured on good frames against their own HR: over the whole frame, inside the
sector (the image region: the convex hull of the frame's non-black pixels) and on the paper's
kind of patch (a square of half the HR side at the sector's centroid). In ``direct`` mode the
reference is bicubic ↑scale(HR), since no true 4×-larger frame exists.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import cv2
import numpy as np

from echosr_edge.data.preprocess import as_batch, bicubic_up, downscale, resize_unit
from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError
from echosr_edge.metrics import ssim

MODES: tuple[str, ...] = ("down-up", "direct")
CLASSICAL_ARMS: tuple[str, ...] = ("none", "bicubic", "nlmeans")
NLM_STRENGTH = 10.0
Restore = Callable[[np.ndarray], np.ndarray]  # N×1×h×w float32 in [0, 1] → N×1×H×W


def check_mode(mode: str) -> str:
    """``mode`` if it is a known enhancement mode, else ValueError naming the choices."""
    if mode not in MODES:
        raise ConfigError(f"unknown enhancement mode {mode!r}; modes: {', '.join(MODES)}")
    return mode


def model_restorer(model, device: str = "cpu", batch: int = 8) -> Restore:
    """An SR model as a restorer, run on ``device`` (the training device)."""
    from echosr_edge.train.common import pick_device, predict_batches

    model = model.to(pick_device(device)).eval()
    return lambda lr: np.clip(predict_batches(model, lr, batch=batch), 0.0, 1.0)


def nlmeans(hr: np.ndarray, strength: float = NLM_STRENGTH) -> np.ndarray:
    """Non-local means of a float [0, 1] image through uint8 (OpenCV), back to float [0, 1]."""
    u8 = (np.clip(hr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return cv2.fastNlMeansDenoising(u8, None, h=strength, templateWindowSize=7, searchWindowSize=21).astype(np.float32) / 255.0


def arm_inputs(frames: list[Frame], hr_size: int, scale: int, mode: str, downsample: str = "bicubic") -> tuple[list[np.ndarray], np.ndarray]:
    """(HR images, the N×1×h×w batch a restorer receives in ``mode``; ↓ by ``downsample`` in down-up)."""
    hr = [resize_unit(f.image, hr_size) for f in frames]
    if check_mode(mode) == "down-up":
        return hr, as_batch([downscale(x, scale, downsample) for x in hr]) if hr else np.empty((0, 1, 1, 1), np.float32)
    return hr, as_batch(hr) if hr else np.empty((0, 1, 1, 1), np.float32)


def restore(arm: str, frames: list[Frame], hr_size: int, scale: int, mode: str, restorer: Restore | None = None,
            downsample: str = "bicubic") -> list[np.ndarray]:
    """Float [0, 1] outputs of ``arm`` for ``frames`` (HR-sized, or ×scale for SR/bicubic in direct mode)."""
    hr, inputs = arm_inputs(frames, hr_size, scale, mode, downsample)
    if arm == "none":
        return hr
    if arm == "nlmeans":
        return [nlmeans(x) for x in hr]
    if arm == "bicubic":
        return [bicubic_up(x[0], scale) for x in inputs]
    if restorer is None:
        raise ValueError(f"arm {arm!r} needs a restorer (an SR model)")
    return list(restorer(inputs)[:, 0]) if len(frames) else []


def enhance(arm: str, frames: list[Frame], hr_size: int, scale: int, mode: str, restorer: Restore | None = None,
            downsample: str = "bicubic") -> list[Frame]:
    """``frames`` through ``arm`` as uint8 frame records, ``meta['arm']`` recording which."""
    outs = restore(arm, frames, hr_size, scale, mode, restorer, downsample)
    return [
        dataclasses.replace(f, image=(np.clip(o, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), meta={**f.meta, "arm": arm})
        for f, o in zip(frames, outs)
    ]


def sector_mask(image: np.ndarray, threshold: float = 2 / 255) -> np.ndarray:
    """The image region of an echo frame: the convex hull of its non-black pixels (bool H×W)."""
    points = cv2.findNonZero((image > threshold).astype(np.uint8))
    mask = np.zeros(image.shape[:2], np.uint8)
    if points is None:
        return np.ones(image.shape[:2], bool)
    cv2.fillConvexPoly(mask, cv2.convexHull(points), 1)
    return mask.astype(bool)


def centre_patch(mask: np.ndarray, side: int) -> tuple[slice, slice]:
    """A ``side``² window at the mask's centroid, kept inside the image."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    cy, cx = (int(ys.mean()), int(xs.mean())) if len(ys) else (h // 2, w // 2)
    y0 = min(max(cy - side // 2, 0), h - side)
    x0 = min(max(cx - side // 2, 0), w - side)
    return slice(y0, y0 + side), slice(x0, x0 + side)


def _masked_psnr(ref: np.ndarray, out: np.ndarray, mask: np.ndarray) -> float:
    mse = float(np.mean((ref[mask] - out[mask]) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def _ssim_map(ref: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The per-pixel SSIM map (scikit-image, same settings as echosr_edge.metrics), for masked means."""
    from skimage.metrics import structural_similarity

    _, full = structural_similarity(ref, out, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, full=True)
    return full


def fidelity(arm: str, frames: list[Frame], hr_size: int, scale: int, mode: str, restorer: Restore | None = None,
             downsample: str = "bicubic") -> dict:
    """Mean PSNR/SSIM of ``arm`` on ``frames`` against their HR: whole frame, sector, centre patch."""
    if not frames:
        return {"frames": 0}
    hr, _ = arm_inputs(frames, hr_size, scale, mode, downsample)
    outs = restore(arm, frames, hr_size, scale, mode, restorer, downsample)
    sums: dict[str, list[float]] = {k: [] for k in ("psnr", "ssim", "psnr_sector", "ssim_sector", "psnr_patch", "ssim_patch")}
    enlarged = False
    for ref, out in zip(hr, outs):
        ref = ref.astype(np.float64)
        if out.shape != ref.shape:  # direct mode: the reference is bicubic ↑scale(HR)
            ref = bicubic_up(ref.astype(np.float32), out.shape[0] // ref.shape[0]).astype(np.float64)
            enlarged = True
        out = out.astype(np.float64)
        mask = sector_mask(ref)
        full = _ssim_map(ref, out)
        ys, xs = centre_patch(mask, ref.shape[0] // 2)
        sums["psnr"].append(_masked_psnr(ref, out, np.ones_like(mask)))
        sums["ssim"].append(ssim(ref, out))  # the product's convention (echosr_edge.metrics)
        sums["psnr_sector"].append(_masked_psnr(ref, out, mask))
        sums["ssim_sector"].append(float(full[mask].mean()))
        sums["psnr_patch"].append(_masked_psnr(ref[ys, xs], out[ys, xs], np.ones((ref[ys, xs].shape), bool)))
        sums["ssim_patch"].append(float(full[ys, xs].mean()))
    result: dict = {"frames": len(frames)}
    for key, values in sums.items():
        finite = [v for v in values if math.isfinite(v)]
        result[key] = float(np.mean(finite)) if finite else math.inf
    result["reference"] = f"bicubic ↑{scale} of HR (direct mode)" if enlarged else "HR (the frame at the HR size)"
    return result
