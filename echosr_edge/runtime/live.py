"""Live sources: a camera or a network stream that may stall or drop, and newest-frame delivery.

``CaptureSource`` reads a camera index or a stream URL (rtsp, http MJPEG, …) through OpenCV and
reopens it with exponential back-off when it stalls or disconnects, recording each gap as a
``SourceEvent``. ``LatestFrameSource`` runs any source in a reader thread and hands the
consumer only the newest frame, counting the ones it overwrote: a slow pipeline drops frames
instead of falling behind the scanner.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from echosr_edge.errors import SourceError

log = logging.getLogger(__name__)

Item = tuple[int, float, np.ndarray]


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a live source retries: doubling delays from ``first_delay_s`` up to ``max_delay_s``.

    ``give_up_after_s``: stop (SourceError) after this long without frames; None keeps trying.
    ``read_timeout_s``: a network stream silent this long counts as stalled and is reopened.
    ``bad_frames_in_a_row``: reads that fail at once on an open source (an undecodable frame —
    a corrupt JPEG in an MJPEG stream) that are skipped before the source counts as lost.
    """

    first_delay_s: float = 0.5
    max_delay_s: float = 8.0
    give_up_after_s: float | None = None
    open_timeout_s: float = 5.0
    read_timeout_s: float = 5.0
    bad_frames_in_a_row: int = 3

    def delays(self) -> Iterator[float]:
        delay = self.first_delay_s
        while True:
            yield delay
            delay = min(self.max_delay_s, delay * 2)


@dataclass(frozen=True)
class SourceEvent:
    """Something that happened to a live source: 'disconnected', 'reconnected' or 'gave_up'."""

    kind: str
    wall_time: float
    source: str
    detail: str
    connection: int
    gap_s: float | None = None
    attempts: int = 0

    def record(self) -> dict:
        """The JSON-lines record of the event (``event`` distinguishes it from frame records)."""
        d = asdict(self)
        d["event"] = d.pop("kind")
        d["wall_time"] = round(d["wall_time"], 3)
        if d["gap_s"] is not None:
            d["gap_s"] = round(d["gap_s"], 3)
        return d


def is_stream_url(spec: str) -> bool:
    """True for the URLs OpenCV's FFmpeg backend reads as live streams."""
    return str(spec).lower().startswith(("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://"))


def redact_url(url: str) -> str:
    """``url`` with any user:password hidden, so logs and messages never carry a camera's credentials."""
    parts = urlsplit(str(url))
    if "@" not in parts.netloc:
        return str(url)
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


class CaptureSource:
    """A camera index or stream URL through ``cv2.VideoCapture``, reopened with back-off when it fails.

    Frame indices and timestamps (seconds since the source started) run on across reconnects;
    ``connection`` counts the successful opens. The first open must succeed (SourceError
    otherwise): a wrong address should fail at once, not retry in silence. A read that fails at
    once while the source stays open is an undecodable frame: it is skipped (counted in
    ``bad_frames``) and the next one read, so one corrupt JPEG does not cost a reconnect.
    """

    live = True

    def __init__(
        self,
        spec: int | str,
        policy: ReconnectPolicy = ReconnectPolicy(),
        on_event: Callable[[SourceEvent], None] | None = None,
    ):
        self.spec = spec
        self.policy = policy
        self.on_event = on_event
        self.description = f"camera {spec}" if isinstance(spec, int) else f"stream {redact_url(spec)}"
        self.connection = 0
        self.dropped = 0
        self.bad_frames = 0  # undecodable frames skipped on an open source
        self.fps: float | None = None
        self._events: collections.deque[SourceEvent] = collections.deque()
        self._stop = threading.Event()

    def _open(self) -> cv2.VideoCapture | None:
        if isinstance(self.spec, int):
            cap = cv2.VideoCapture(self.spec)
        else:
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.policy.open_timeout_s * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.policy.read_timeout_s * 1000),
            ]
            cap = cv2.VideoCapture(str(self.spec), cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            fps = cap.get(cv2.CAP_PROP_FPS)
            self.fps = fps if 0 < fps < 1000 else self.fps
            return cap
        cap.release()
        return None

    def _emit(self, kind: str, detail: str, gap_s: float | None = None, attempts: int = 0) -> None:
        event = SourceEvent(kind, time.time(), self.description, detail, self.connection, gap_s, attempts)
        self._events.append(event)
        (log.warning if kind != "reconnected" else log.info)("%s: %s", self.description, detail)
        if self.on_event:
            self.on_event(event)

    def drain_events(self) -> list[SourceEvent]:
        """Events since the last call, oldest first (thread-safe)."""
        out = []
        while self._events:
            out.append(self._events.popleft())
        return out

    def close(self) -> None:
        """Ask a running ``frames()`` to stop at its next frame or back-off wait."""
        self._stop.set()

    def _reopen(self, lost_at: float) -> cv2.VideoCapture | None:
        """Retry with back-off until the source opens, the policy gives up, or close() is called.

        ``lost_at`` is the monotonic time of the last frame: gaps and give-up run from there.
        """
        attempts = 0
        for delay in self.policy.delays():
            give_up = self.policy.give_up_after_s
            if give_up is not None and time.monotonic() - lost_at >= give_up:
                self._emit("gave_up", f"no frames for {give_up:.1f} s after {attempts} reconnect attempts", attempts=attempts)
                raise SourceError(f"{self.description}: no frames for {give_up:.1f} s; giving up after {attempts} attempts")
            if self._stop.wait(delay):
                return None
            attempts += 1
            cap = self._open()
            if cap is not None:
                self.connection += 1
                gap = time.monotonic() - lost_at
                self._emit("reconnected", f"reconnected after a {gap:.1f} s gap ({attempts} attempts)", gap, attempts)
                return cap
        return None  # unreachable: delays() never ends

    def frames(self) -> Iterator[Item]:
        cap = self._open()
        if cap is None:
            raise SourceError(f"cannot open {self.description} (check the index or address, and that it is streaming)")
        self.connection = 1
        index, started = 0, time.monotonic()
        last_frame_at = started
        bad_in_a_row = 0
        try:
            while not self._stop.is_set():
                read_at = time.monotonic()
                ok, frame = cap.read()
                if ok and frame is not None:
                    self.bad_frames += bad_in_a_row  # those were frames, not an outage
                    bad_in_a_row = 0
                    last_frame_at = time.monotonic()
                    yield index, last_frame_at - started, frame
                    index += 1
                    continue
                failed_at_once = time.monotonic() - read_at < self.policy.read_timeout_s / 2
                if failed_at_once and bad_in_a_row < self.policy.bad_frames_in_a_row and cap.isOpened():
                    bad_in_a_row += 1
                    continue
                bad_in_a_row = 0
                cap.release()
                silent = time.monotonic() - last_frame_at
                self._emit("disconnected", f"stream stalled or dropped after frame {index - 1} (silent for {silent:.1f} s)")
                cap = self._reopen(last_frame_at)
                if cap is None:
                    return
        finally:
            if cap is not None:
                cap.release()


class PacedSource:
    """A file source played at its own frame rate (for ``--realtime`` runs on recordings)."""

    live = False

    def __init__(self, inner):
        self.inner = inner
        self.description = f"{inner.description} (real time)"
        self.fps = getattr(inner, "fps", None)
        self.dropped = 0
        self._stop = threading.Event()

    def drain_events(self) -> list[SourceEvent]:
        return []

    def close(self) -> None:
        self._stop.set()

    def frames(self) -> Iterator[Item]:
        started = time.monotonic()
        for index, timestamp, frame in self.inner.frames():
            wait = started + timestamp - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            yield index, timestamp, frame


class LatestFrameSource:
    """Runs ``inner`` in a reader thread and yields only the newest frame; ``dropped`` counts the rest.

    While no frame arrives, ``frames()`` yields None every ``heartbeat_s`` so the consumer can
    log events, report and stop during an outage.
    """

    live = True

    def __init__(self, inner, heartbeat_s: float = 0.25):
        self.inner = inner
        self.heartbeat_s = heartbeat_s
        self.description = inner.description
        self.dropped = 0
        self.connection = 0

    @property
    def fps(self) -> float | None:
        return getattr(self.inner, "fps", None)

    @property
    def bad_frames(self) -> int:
        """Undecodable frames the inner source skipped (0 for sources that do not count them)."""
        return getattr(self.inner, "bad_frames", 0)

    def drain_events(self) -> list[SourceEvent]:
        return self.inner.drain_events()

    def frames(self) -> Iterator[Item | None]:
        cond = threading.Condition()
        state: dict = {"slot": None, "done": False, "error": None}
        stop = threading.Event()

        def reader() -> None:
            try:
                for item in self.inner.frames():
                    connection = getattr(self.inner, "connection", 0)
                    with cond:
                        if state["slot"] is not None:
                            self.dropped += 1
                        state["slot"] = (item, connection)
                        cond.notify()
                    if stop.is_set():
                        break
            except BaseException as exc:  # handed to the consumer, re-raised there
                state["error"] = exc
            finally:
                with cond:
                    state["done"] = True
                    cond.notify()

        thread = threading.Thread(target=reader, name=f"reader {self.description}", daemon=True)
        thread.start()
        try:
            while True:
                with cond:
                    cond.wait_for(lambda: state["slot"] is not None or state["done"], timeout=self.heartbeat_s)
                    slot, state["slot"] = state["slot"], None
                    done, error = state["done"], state["error"]
                if slot is not None:
                    item, self.connection = slot
                    yield item
                elif done:
                    if error is not None:
                        raise error
                    return
                else:
                    yield None
        finally:
            stop.set()
            if hasattr(self.inner, "close"):
                self.inner.close()
            thread.join(timeout=self.inner.policy.read_timeout_s + 1 if hasattr(self.inner, "policy") else 2.0)
