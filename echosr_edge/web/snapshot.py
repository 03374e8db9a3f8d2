"""Snapshots: the pair on screen saved as two PNGs and its JSON record, written atomically."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.errors import EchoSRError
from echosr_edge.web.frames import to_display, to_json


@dataclass(frozen=True)
class Snapshot:
    """Where one snapshot went: the original and enhanced PNGs and the frame's JSON record."""

    original: Path
    enhanced: Path
    record: Path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise EchoSRError(f"OpenCV could not encode a {image.shape} frame as PNG")
    return buf.tobytes()


def save_snapshot(folder: Path, original: np.ndarray, enhanced: np.ndarray, record: dict) -> Snapshot:
    """Write ``snapshot-<frame>-<time>{-original.png,-enhanced.png,.json}`` into ``folder``.

    ``original`` and ``enhanced`` are H×W (or H×W×3 BGR) uint8 or float in [0, 1], saved at
    full resolution; ``record`` is the frame's JSON-lines record, saved as it was logged.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EchoSRError(f"{folder}: cannot create the snapshot folder ({exc.strerror})") from exc
    frame = record.get("frame")
    base = f"snapshot-{int(frame):06d}" if isinstance(frame, int) else "snapshot"
    base += time.strftime("-%Y%m%d-%H%M%S")
    stem, n = base, 1
    while (folder / f"{stem}.json").exists():
        n += 1
        stem = f"{base}-{n}"
    shot = Snapshot(folder / f"{stem}-original.png", folder / f"{stem}-enhanced.png", folder / f"{stem}.json")
    try:
        _write_atomic(shot.original, _png(to_display(original)))
        _write_atomic(shot.enhanced, _png(to_display(enhanced)))
        _write_atomic(shot.record, (json.dumps(json.loads(to_json(record)), indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise EchoSRError(f"{folder}: cannot write the snapshot ({exc.strerror})") from exc
    return shot
