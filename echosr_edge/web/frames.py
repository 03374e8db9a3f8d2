"""Frame encoding for the live view: display-ready uint8 images, JPEG, and the wire payload.

One binary WebSocket message carries one processed frame, so the original, the enhanced
frame and the labels the page shows always belong to the same frame::

    4 bytes   big-endian uint32 N, the length of the header
    N bytes   UTF-8 JSON header: {"seq", "record", "stats", "sizes": [original, enhanced]}
    ...       original JPEG (sizes[0] bytes), then enhanced JPEG (sizes[1] bytes)
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field

import cv2
import numpy as np

from echosr_edge.errors import EchoSRError


@dataclass(frozen=True)
class EncodedFrame:
    """One frame ready for every client: encoded once, shared by all of them."""

    seq: int
    payload: bytes = field(repr=False)


def to_display(image: np.ndarray, max_side: int | None = None) -> np.ndarray:
    """H×W or H×W×3 (BGR) image, uint8 or float in [0, 1] → contiguous uint8, long side ≤ max_side."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise EchoSRError(f"the live view shows H×W or H×W×3 frames, got shape {image.shape}")
    if image.dtype == np.uint8:
        out = image
    elif np.issubdtype(image.dtype, np.floating):
        out = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    else:
        out = np.clip(image, 0, 255).astype(np.uint8)
    if out.ndim == 3 and out.shape[2] == 4:
        out = cv2.cvtColor(out, cv2.COLOR_BGRA2BGR)
    long_side = max(out.shape[:2])
    if max_side and long_side > max_side:
        f = max_side / long_side
        size = (max(1, round(out.shape[1] * f)), max(1, round(out.shape[0] * f)))
        out = cv2.resize(out, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """A display-ready uint8 image → JPEG bytes."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise EchoSRError(f"OpenCV could not encode a {image.shape} frame as JPEG")
    return buf.tobytes()


def _json_default(value):
    """numpy scalars and arrays in a record become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _finite(value):
    """NaN and ±inf become null: the browser's JSON.parse refuses them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(value) -> str:
    """Strict JSON (no NaN) of a record or state dict, numpy values included."""
    try:
        return json.dumps(value, default=_json_default, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(json.loads(json.dumps(value, default=_json_default))), allow_nan=False)


def pack_frame(seq: int, record: dict, stats: dict, original_jpeg: bytes, enhanced_jpeg: bytes) -> bytes:
    """The wire payload of one frame (layout in the module docstring)."""
    header = {"seq": seq, "record": record, "stats": stats, "sizes": [len(original_jpeg), len(enhanced_jpeg)]}
    head = to_json(header).encode("utf-8")
    return struct.pack(">I", len(head)) + head + original_jpeg + enhanced_jpeg


def unpack_frame(payload: bytes) -> tuple[dict, bytes, bytes]:
    """The inverse of :func:`pack_frame`: (header, original JPEG, enhanced JPEG)."""
    (n,) = struct.unpack(">I", payload[:4])
    header = json.loads(payload[4 : 4 + n].decode("utf-8"))
    a, b = header["sizes"]
    start = 4 + n
    return header, payload[start : start + a], payload[start + a : start + a + b]
