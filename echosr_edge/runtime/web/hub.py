"""The live hub: where the pipeline thread leaves its newest frame and the web view picks it up.

The hub keeps one frame, the newest, never a queue: a client that falls behind gets the
newest frame when it asks again, and the frames it missed are simply gone. Publishing only
stores references and updates counters under a short lock; JPEG encoding happens on the
server's side, once per frame however many clients watch, and only when a client asks —
so with no client attached the pipeline pays nothing but the bookkeeping.

Thread-safe, torch-free, and free of web libraries: the run loop can hold a hub without the
``web`` extra installed.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.web.frames import EncodedFrame, jpeg, pack_frame, to_display
from echosr_edge.runtime.web.snapshot import Snapshot, save_snapshot
from echosr_edge.runtime.web.stats import LiveStats, RollingStats

log = logging.getLogger(__name__)

STATUSES = ("starting", "live", "stalled", "reconnecting", "stopped")
ENHANCE_MODES = ("auto", "always", "never")
# A frame proves the source is delivering again; "stopped" is final and only the run loop ends it.
_LIVE_ON_FRAME = ("starting", "stalled", "reconnecting")


class LiveHub:
    """The newest processed frame, the source's status and the view's controls.

    The pipeline thread calls :meth:`publish` once per processed frame and
    :meth:`set_status` when the source changes state; it registers
    :meth:`on_enhance_mode` callbacks and reads :attr:`frozen`. The web server calls
    :meth:`encoded_frame`, :meth:`state`, :meth:`set_enhance_mode`, :meth:`set_frozen`
    and :meth:`snapshot`.
    """

    def __init__(
        self,
        snapshot_dir: Path | None = None,
        enhance_mode: str = "always",
        enhance_modes: tuple[str, ...] = ENHANCE_MODES,
        jpeg_quality: int = 85,
        max_side: int | None = 960,
        stats_window: int = 120,
        clock: Callable[[], float] = time.monotonic,
    ):
        unknown = set(enhance_modes) - set(ENHANCE_MODES) or ({enhance_mode} - set(enhance_modes))
        if unknown:
            raise ValueError(f"enhance modes must be among {ENHANCE_MODES} and include {enhance_mode!r}")
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.enhance_modes = tuple(enhance_modes)
        self.jpeg_quality = jpeg_quality
        self.max_side = max_side
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below; held for microseconds only
        self._encode_lock = threading.Lock()  # one encoder at a time, never held by publish()
        self._seq = 0
        self._original: np.ndarray | None = None
        self._enhanced: np.ndarray | None = None
        self._record: dict | None = None
        self._cache: EncodedFrame | None = None
        self._stats = RollingStats(stats_window)
        self.provenance: dict | None = None  # the run's provenance block, shown by /api/state
        self.pane: dict | None = None  # the second pane's heading and start-up SR check (enhanced_view.py)
        self._status, self._message = "starting", "waiting for the first frame"
        self._mode = enhance_mode
        self._frozen = False
        self._version = 0  # bumped on every change of state() other than the frame
        self._mode_callbacks: list[Callable[[str], None]] = []
        self._listeners: list[Callable[[], None]] = []
        self.encodes = 0  # JPEG pairs encoded so far: at most one per published frame

    # --- the pipeline's side -------------------------------------------------------------

    def publish(self, original: np.ndarray, enhanced: np.ndarray, record: dict) -> None:
        """Offer the newest processed frame to the view; never blocks on a client.

        ``original`` is the source frame (H×W or H×W×3 BGR, uint8 or float in [0, 1]),
        ``enhanced`` the pipeline's H×W float32 image in [0, 1], ``record`` the frame's JSON
        record. The hub keeps references, not copies: do not modify the arrays afterwards.
        While the view is frozen the statistics still advance but the shown frame stays.
        """
        with self._lock:
            self._stats.add(self._clock(), record)
            if not self._frozen:
                self._seq += 1
                self._original, self._enhanced, self._record = original, enhanced, record
            if self._status in _LIVE_ON_FRAME:
                self._status, self._message = "live", ""
                self._version += 1
        self._notify()

    def set_status(self, status: str, message: str = "") -> None:
        """The source's or pipeline's state, shown on the page (``message`` explains it)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        with self._lock:
            self._status, self._message = status, message
            self._version += 1
        self._notify()

    def on_enhance_mode(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(mode)`` when the view asks for another enhancement mode.

        It runs on the server's thread: keep it short and thread-safe (setting an attribute
        the pipeline reads once per frame is enough). Raising ValueError or EchoSRError
        refuses the change, and the page shows the message.
        """
        self._mode_callbacks.append(callback)

    @property
    def frozen(self) -> bool:
        """Whether the clinician froze the view (the run loop may pause while it is)."""
        return self._frozen

    @property
    def enhance_mode(self) -> str:
        return self._mode

    # --- the view's side -----------------------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (on the publishing thread; it must not block) after every change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def seq(self) -> int:
        """The sequence number of the frame on show (0 before the first)."""
        return self._seq

    @property
    def version(self) -> int:
        """Bumped whenever :meth:`state` changes (status, mode, freeze)."""
        return self._version

    def stats(self) -> LiveStats:
        with self._lock:
            return self._stats.summary(self._clock())

    def state(self) -> dict:
        """Status, message, enhancement mode and choices, freeze, and the current statistics."""
        with self._lock:
            return {
                "type": "state",
                "status": self._status,
                "message": self._message,
                "enhance_mode": self._mode,
                "enhance_modes": list(self.enhance_modes),
                "mode_control": bool(self._mode_callbacks),
                "frozen": self._frozen,
                "snapshots": self.snapshot_dir is not None,
                "stats": self._stats.summary(self._clock()).to_dict(),
                "provenance": self.provenance,
                "pane": self.pane,
            }

    def encoded_frame(self) -> EncodedFrame | None:
        """The newest frame as one wire payload, encoded at most once per frame (None before any)."""
        with self._encode_lock:
            with self._lock:
                seq, cached = self._seq, self._cache
                original, enhanced, record = self._original, self._enhanced, self._record
                stats = self._stats.summary(self._clock()).to_dict()
            if seq == 0:
                return None
            if cached is not None and cached.seq == seq:
                return cached
            # Encoded outside self._lock: publish() never waits for a JPEG.
            a = jpeg(to_display(original, self.max_side), self.jpeg_quality)
            b = jpeg(to_display(enhanced, self.max_side), self.jpeg_quality)
            frame = EncodedFrame(seq, pack_frame(seq, record, stats, a, b))
            with self._lock:
                self._cache = frame
                self.encodes += 1
            return frame

    def set_enhance_mode(self, mode: str) -> str:
        """Ask the pipeline for ``mode``; the registered callbacks may refuse it."""
        if mode not in self.enhance_modes:
            raise ValueError(f"enhancement mode must be one of {', '.join(self.enhance_modes)}, got {mode!r}")
        if not self._mode_callbacks:
            raise EchoSRError("this run does not accept enhancement changes from the view")
        for callback in list(self._mode_callbacks):
            callback(mode)
        with self._lock:
            self._mode = mode
            self._version += 1
        log.info("enhancement set to %s from the live view", mode)
        self._notify()
        return mode

    def set_frozen(self, frozen: bool) -> bool:
        """Freeze (hold the shown frame) or resume the view."""
        with self._lock:
            self._frozen = bool(frozen)
            self._version += 1
        self._notify()
        return self._frozen

    def snapshot(self) -> Snapshot:
        """Save the pair on show (the frozen one while frozen) with its record; see save_snapshot."""
        if self.snapshot_dir is None:
            raise EchoSRError("snapshots are off for this run: it was started without a folder for them")
        with self._lock:
            original, enhanced, record = self._original, self._enhanced, self._record
        if record is None:
            raise EchoSRError("no frame to save yet: the source has not delivered one")
        shot = save_snapshot(self.snapshot_dir, original, enhanced, record)
        log.info("snapshot saved as %s", shot.record.name)
        return shot

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a broken listener must never stop the pipeline
                log.exception("live view listener failed")
