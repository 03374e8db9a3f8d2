"""Stop a run cleanly on SIGTERM and SIGHUP, as on Ctrl-C.

``systemctl stop`` sends SIGTERM, closing the terminal sends SIGHUP, and a background job
ignores SIGINT; Python's default for the first two is to die at once, which leaves the
recording without its index and the log without its last stats line. ``StopSignals`` turns
them into a request the run loop polls (its ``should_stop``): the loop ends after the frame in
flight, every sink closes, and the process exits 0. A second signal while stopping raises
KeyboardInterrupt, so a stuck stop can still be forced.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopSignals:
    """Context manager: while inside, SIGTERM/SIGHUP ask the run to stop; call the object to poll.

    Outside the main thread (where Python cannot install handlers) it does nothing and never
    asks to stop.
    """

    def __init__(self, signals: tuple[int, ...] = STOP_SIGNALS):
        self.signals = signals
        self.received: str | None = None  # the name of the first signal, e.g. "SIGTERM"
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received is not None:
            raise KeyboardInterrupt(f"{name} while stopping")
        self.received = name
        log.warning("%s received: stopping after the frame in flight", name)

    def __call__(self) -> bool:
        return self.received is not None

    def install(self) -> "StopSignals":
        """Take over the signals (main thread only); ``restore`` gives them back."""
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def __enter__(self) -> "StopSignals":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.restore()
