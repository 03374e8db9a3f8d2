"""The run loop: frames from a source through the pipeline into a JSON-lines log."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.runtime.pipeline import FrameResult, Pipeline
from echosr_edge.runtime.sources import FrameSource


def result_record(index: int, timestamp: float, result: FrameResult) -> dict:
    """The JSON record of one processed frame."""
    return {
        "frame": index,
        "timestamp": round(timestamp, 4),
        "enhanced": result.enhanced_applied,
        "labels": result.labels,
        "probabilities": {k: {c: round(p, 5) for c, p in v.items()} for k, v in result.probabilities.items()},
        "ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
    }


@dataclass
class RunSummary:
    """What a run did: frame count, latency percentiles, where the log is."""

    frames: int = 0
    log_path: Path | None = None
    totals_ms: list[float] = field(default_factory=list)

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.totals_ms, 50)) if self.totals_ms else float("nan")

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.totals_ms, 95)) if self.totals_ms else float("nan")


def run_source(
    pipeline: Pipeline,
    source: FrameSource,
    log_path: Path | None = None,
    max_frames: int | None = None,
    on_frame: Callable[[dict], None] | None = None,
) -> RunSummary:
    """Process every frame of ``source``; write one JSON line per frame to ``log_path``."""
    summary = RunSummary(log_path=log_path)
    log_file = open(log_path, "w", encoding="utf-8") if log_path else None
    try:
        for index, timestamp, frame in source.frames():
            result = pipeline.process(frame)
            record = result_record(index, timestamp, result)
            record["wall_time"] = round(time.time(), 3)
            if log_file:
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
            summary.frames += 1
            summary.totals_ms.append(result.timings_ms["total"])
            if on_frame:
                on_frame(record)
            if max_frames and summary.frames >= max_frames:
                break
    finally:
        if log_file:
            log_file.close()
    return summary
