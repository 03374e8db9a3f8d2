"""Frame pre-processing shared by training and the runtime (numpy + OpenCV, no torch).

Conventions: model inputs are float32 in [0, 1], grey, square. The HR frame is the input
frame resized to ``hr_size``; LR is its bicubic ↓scale (OpenCV's bicubic, no anti-alias
pre-filter), as in the study's LR/HR pairs. The "enhanced" frame is SR(LR), the same size as HR.
"""

from __future__ import annotations

import cv2
import numpy as np

from echosr_edge.errors import ConfigError


def to_grey(frame: np.ndarray) -> np.ndarray:
    """H×W or H×W×3 (BGR) or H×W×4 frame → H×W uint8 grey."""
    if frame.ndim == 2:
        grey = frame
    elif frame.ndim == 3 and frame.shape[2] == 1:
        grey = frame[:, :, 0]
    elif frame.ndim == 3 and frame.shape[2] in (3, 4):
        code = cv2.COLOR_BGR2GRAY if frame.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        grey = cv2.cvtColor(np.ascontiguousarray(frame), code)
    else:
        raise ValueError(f"expected an H×W or H×W×3 frame, got shape {frame.shape}")
    if grey.dtype == np.uint16:  # the readers' scaling of 16-bit images (runtime.readers.read_image)
        grey = (grey // 257).astype(np.uint8)
    elif grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    return grey


def resize_unit(image: np.ndarray, size: int) -> np.ndarray:
    """H×W uint8 or float image → size×size float32 in [0, 1]."""
    src = image.astype(np.float32)
    if image.dtype == np.uint8:
        src /= 255.0
    shrinking = size < min(image.shape[:2])
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    out = cv2.resize(src, (size, size), interpolation=interp)
    return np.clip(out, 0.0, 1.0)


# How HR becomes LR. "bicubic": OpenCV's cubic interpolation, which samples without a low-pass
# and so aliases at ×4 (the product's runtime chain); "area": the mean of each scale×scale block,
# an anti-aliased ↓ (the grid's --downsample switch).
DOWNSAMPLERS: dict[str, int] = {"bicubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}


def downscale(hr: np.ndarray, scale: int, method: str = "bicubic") -> np.ndarray:
    """size×size float32 HR in [0, 1] → (size/scale)² LR by ``method`` (see DOWNSAMPLERS)."""
    if method not in DOWNSAMPLERS:
        raise ConfigError(f"unknown downsampler {method!r}; known: {', '.join(DOWNSAMPLERS)}")
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ConfigError(f"HR size {h}x{w} is not divisible by the scale {scale}")
    lr = cv2.resize(hr, (w // scale, h // scale), interpolation=DOWNSAMPLERS[method])
    return np.clip(lr, 0.0, 1.0)


def bicubic_down(hr: np.ndarray, scale: int) -> np.ndarray:
    """size×size float32 HR in [0, 1] → (size/scale)² LR by bicubic interpolation."""
    return downscale(hr, scale, "bicubic")


def bicubic_up(lr: np.ndarray, scale: int) -> np.ndarray:
    """LR float32 in [0, 1] → ×scale by bicubic interpolation (the SR baseline)."""
    h, w = lr.shape[:2]
    up = cv2.resize(lr, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
    return np.clip(up, 0.0, 1.0)


def as_batch(images: list[np.ndarray] | np.ndarray) -> np.ndarray:
    """A list of H×W float32 images → N×1×H×W float32 (contiguous)."""
    return np.ascontiguousarray(np.stack(list(images))[:, None].astype(np.float32))
