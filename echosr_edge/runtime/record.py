"""One record per processed frame, the same in the run log, the web view's feed and batch's results.

``FrameRecord.from_result`` turns a pipeline ``FrameResult`` into the record; ``to_json`` gives
the one JSON shape every sink writes. ``ms`` is always a dict of per-stage milliseconds with
``total`` the end-to-end time; ``enhanced`` is always whether SR was applied. Sinks add their own
keys beside these (the run loop ``dropped``, ``wall_time`` and ``latency_ms``; batch the enhanced image's path
and the poorness score) but never change the meaning or type of a key here.
"""

from __future__ import annotations

from dataclasses import dataclass

from echosr_edge.runtime.pipeline import FrameResult

PROBABILITY_DIGITS = 5
MS_DIGITS = 3


def _rounded(probabilities: dict[str, float] | None) -> dict[str, float] | None:
    return {c: round(p, PROBABILITY_DIGITS) for c, p in probabilities.items()} if probabilities else None


@dataclass(frozen=True)
class FrameRecord:
    """What the pipeline made of one frame, as every output records it."""

    frame: int
    timestamp: float | None  # seconds from the source's start (None where a file has no clock)
    quality: str | None
    quality_probabilities: dict[str, float] | None
    enhanced: bool
    labels: dict[str, str]
    probabilities: dict[str, dict[str, float]]
    ms: dict[str, float]  # per stage, "total" end to end
    crop: list[int] | None

    @classmethod
    def from_result(cls, index: int, timestamp: float | None, result: FrameResult) -> "FrameRecord":
        """The record of ``result``, the pipeline's output for frame ``index``."""
        return cls(
            frame=index,
            timestamp=None if timestamp is None else round(timestamp, 4),
            quality=result.quality,
            quality_probabilities=_rounded(result.quality_probabilities),
            enhanced=result.enhanced_applied,
            labels=dict(result.labels),
            probabilities={k: _rounded(v) for k, v in result.probabilities.items()},
            ms={k: round(v, MS_DIGITS) for k, v in result.timings_ms.items()},
            crop=result.crop.as_list() if result.crop else None,
        )

    def to_json(self) -> dict:
        """The record as JSON-ready data (a new dict each call, so a sink may add its own keys)."""
        return {
            "frame": self.frame,
            "timestamp": self.timestamp,
            "quality": self.quality,
            "enhanced": self.enhanced,
            "labels": dict(self.labels),
            "probabilities": {k: dict(v) for k, v in self.probabilities.items()},
            "quality_probabilities": dict(self.quality_probabilities) if self.quality_probabilities else None,
            "ms": dict(self.ms),
            "crop": list(self.crop) if self.crop else None,
        }
