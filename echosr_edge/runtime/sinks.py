"""Where processed frames go: a JSON-lines log, an MP4 recording, a window.

A sink receives each frame's record (the JSON the log writes), the source frame and the
pipeline's result, and each source event. ``frame`` returns False when the user asked to stop
(the window's q / Esc).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.display import VIEW_MODES, compose_view
from echosr_edge.runtime.pipeline import FrameResult


class Sink(Protocol):
    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool: ...

    def event(self, record: dict) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """One JSON object per line: frame records and event records (those carry an ``event`` key).

    Each line is flushed as written, so a crash or a power cut loses at most the line in flight.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool:
        self._write(record)
        return True

    def event(self, record: dict) -> None:
        self._write(record)

    def close(self) -> None:
        self._file.close()


class RecordSink:
    """An MP4 (mp4v) of the side-by-side view with labels, one video frame per processed frame."""

    def __init__(self, path: Path, fps: float = 25.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self._writer: cv2.VideoWriter | None = None
        self._last_time: float | None = None

    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool:
        picture = compose_view(original, result, record.get("fps"))
        if self._writer is None:
            h, w = picture.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise EchoSRError(f"cannot write the recording {self.path} (OpenCV has no mp4v encoder here?)")
        self._writer.write(picture)
        return True

    def event(self, record: dict) -> None:
        pass

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class WindowSink:
    """A window showing original | enhanced; keys: v cycles the view, l toggles labels, q or Esc quits."""

    def __init__(self, title: str = "echosr-edge"):
        self.title = title
        self.mode = 0
        self.labels = True
        self.sr_check = None  # enhanced_view.SRCheck, for honest labels (set by the caller)
        try:
            cv2.namedWindow(self.title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise EchoSRError(f"cannot open a window ({exc}); run with --headless") from exc

    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool:
        cv2.imshow(self.title, compose_view(original, result, record.get("fps"), VIEW_MODES[self.mode], self.labels,
                                            sr_check=self.sr_check))
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            return False
        if key == ord("v"):
            self.mode = (self.mode + 1) % len(VIEW_MODES)
        elif key == ord("l"):
            self.labels = not self.labels
        return True

    def event(self, record: dict) -> None:
        pass

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
        except cv2.error:
            pass
