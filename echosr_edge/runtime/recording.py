"""A recording that survives kill -9 and power loss: short, self-contained MP4 segments.

An MP4 is only playable once its index (the moov atom) is written, at release; a process
killed before that leaves an unreadable file. ``SegmentedRecordSink`` therefore closes a
segment every ``segment_seconds`` (of video time, or of wall time, whichever comes first):
``rec.mp4`` becomes ``rec_000.mp4``, ``rec_001.mp4`` … and a kill loses at most the segment in
flight. Each finished segment is fsynced. ``rec.segments.txt`` lists the finished segments in FFmpeg
concat format (``ffmpeg -f concat -safe 0 -i rec.segments.txt -c copy rec.mp4`` joins them),
and each new segment is announced as a ``recording_segment`` event in the run log.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import cv2
import numpy as np

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.display import compose_view
from echosr_edge.runtime.pipeline import FrameResult

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_SECONDS = 5.0


def segment_path(path: Path, index: int) -> Path:
    """``rec.mp4``, 3 → ``rec_003.mp4``."""
    return path.with_name(f"{path.stem}_{index:03d}{path.suffix or '.mp4'}")


def segment_list_path(path: Path) -> Path:
    """``rec.mp4`` → ``rec.segments.txt``."""
    return path.with_name(f"{path.stem}.segments.txt")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentedRecordSink:
    """The side-by-side view with labels as MP4 segments of ``segment_seconds`` each."""

    def __init__(self, path: Path, fps: float = 25.0, segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
                 clock=time.monotonic):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fps = fps
        self.segment_seconds = segment_seconds
        self.frames_per_segment = max(1, round(segment_seconds * fps))
        self.segments: list[Path] = []
        self._clock = clock
        self._writer: cv2.VideoWriter | None = None
        self._in_segment = 0
        self._started = 0.0
        self._frames = 0
        self._events: list[dict] = []
        self._list = open(segment_list_path(self.path), "w", encoding="utf-8")
        self.sr_check = None  # enhanced_view.SRCheck, for honest labels (set by the caller)

    def _open(self, size: tuple[int, int], frame_index: int) -> None:
        path = segment_path(self.path, len(self.segments))
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size)
        if not self._writer.isOpened():
            raise EchoSRError(f"cannot write the recording {path} (OpenCV has no mp4v encoder here?)")
        self.segments.append(path)
        self._in_segment, self._started = 0, self._clock()
        self._events.append({"event": "recording_segment", "path": str(path), "segment": len(self.segments) - 1,
                             "first_frame": frame_index, "wall_time": round(time.time(), 3)})
        log.info("recording segment %s", path)

    def _finish(self) -> None:
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        _fsync(self.segments[-1])
        self._list.write(f"file '{self.segments[-1].name}'\n")  # listed once playable: the list never names a broken file
        self._list.flush()
        os.fsync(self._list.fileno())

    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool:
        picture = compose_view(original, result, record.get("fps"), sr_check=self.sr_check)
        full = self._in_segment >= self.frames_per_segment or self._clock() - self._started >= self.segment_seconds
        if self._writer is not None and full:
            self._finish()
        if self._writer is None:
            h, w = picture.shape[:2]
            self._open((w, h), record.get("frame", self._frames))
        self._writer.write(picture)
        self._in_segment += 1
        self._frames += 1
        return True

    def pending_events(self) -> list[dict]:
        """Event records for the run log (a segment opened) since the last call."""
        events, self._events = self._events, []
        return events

    def event(self, record: dict) -> None:
        pass

    def close(self) -> None:
        self._finish()
        self._list.close()
