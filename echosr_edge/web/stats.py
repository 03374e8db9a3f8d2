"""Rolling live statistics: frame rate, end-to-end latency percentiles, dropped frames."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LiveStats:
    """What the page shows under the images; ``None`` where nothing is known yet."""

    frames: int
    fps: float
    p50_ms: float | None
    p95_ms: float | None
    dropped: int | None

    def to_dict(self) -> dict:
        return asdict(self)


class RollingStats:
    """The last ``window`` frames' publish times and latencies (not thread-safe: the hub locks)."""

    def __init__(self, window: int = 120, idle_s: float = 3.0):
        self._times: deque[float] = deque(maxlen=window)
        self._totals: deque[float] = deque(maxlen=window)
        self._idle_s = idle_s
        self.frames = 0
        self.dropped: int | None = None

    def add(self, now: float, record: dict) -> None:
        """Count one published frame; ``record["ms"]["total"]`` is its end-to-end latency."""
        self.frames += 1
        self._times.append(now)
        total = (record.get("ms") or {}).get("total")
        if isinstance(total, (int, float)):
            self._totals.append(float(total))
        dropped = record.get("dropped")
        if isinstance(dropped, int):
            self.dropped = dropped

    def summary(self, now: float) -> LiveStats:
        """The current figures; the frame rate falls to 0 once no frame came for ``idle_s``."""
        times = [t for t in self._times if now - t <= self._idle_s]
        fps = 0.0
        if len(times) >= 2 and times[-1] > times[0]:
            fps = (len(times) - 1) / (times[-1] - times[0])
        p50 = p95 = None
        if self._totals:
            p50, p95 = (float(v) for v in np.percentile(np.fromiter(self._totals, float), [50, 95]))
        return LiveStats(self.frames, round(fps, 2), _round(p50), _round(p95), self.dropped)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
