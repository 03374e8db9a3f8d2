"""The run loop: frames from a source through the pipeline into sinks, with latency reports.

Every processed frame becomes one record (frame index, timestamps, quality, whether it was
enhanced, labels, probabilities, per-stage milliseconds, frames dropped so far); the JSON-lines
log writes them as they come. Source events (a stream lost, regained) are records too.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from echosr_edge.runtime.live import SourceEvent
from echosr_edge.runtime.overlap import overlapped
from echosr_edge.runtime.pipeline import FrameResult, Pipeline
from echosr_edge.runtime.provenance import frame_provenance
from echosr_edge.runtime.record import FrameRecord
from echosr_edge.runtime.sinks import JsonlSink, Sink
from echosr_edge.runtime.sources import FrameSource


def result_record(index: int, timestamp: float, result: FrameResult) -> dict:
    """The JSON record of one processed frame (``runtime.record.FrameRecord``)."""
    return FrameRecord.from_result(index, timestamp, result).to_json()


@dataclass(frozen=True)
class LatencyReport:
    """Latency over the frames processed since the previous report."""

    frames: int
    seconds: float
    fps: float
    p50_ms: float
    p95_ms: float
    dropped: int  # since the run started
    stages_p50_ms: dict[str, float]
    latency_p50_ms: float = float("nan")  # frame taken from the source → result, waits included


@dataclass
class RunSummary:
    """What a run did: frames, drops, events, why it stopped, latency percentiles, where the log is."""

    frames: int = 0
    log_path: Path | None = None
    totals_ms: list[float] = field(default_factory=list)
    dropped: int = 0
    events: list[dict] = field(default_factory=list)
    stopped_by: str = "end"  # "end", "max_frames", "stopped", "user", "interrupted"
    source: str = ""
    latencies_ms: list[float] = field(default_factory=list)  # frame taken from the source → result
    seconds: float = 0.0  # first frame taken → last result
    overlap: bool = False

    @property
    def fps(self) -> float:
        """Frames per second over the run (throughput)."""
        return self.frames / self.seconds if self.seconds > 0 else float("nan")

    @property
    def latency_p50_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 50)) if self.latencies_ms else float("nan")

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.totals_ms, 50)) if self.totals_ms else float("nan")

    @property
    def p95_ms(self) -> float:
        return float(np.percentile(self.totals_ms, 95)) if self.totals_ms else float("nan")


class _Stats:
    """Collects per-stage times between reports and a short window for the displayed fps."""

    def __init__(self, every_s: float):
        self.every_s = every_s
        self.stages: dict[str, list[float]] = collections.defaultdict(list)
        self.since = time.monotonic()
        self.recent = collections.deque(maxlen=30)

    def add(self, timings: dict[str, float], latency_ms: float) -> float | None:
        for stage, ms in timings.items():
            self.stages[stage].append(ms)
        self.stages["latency"].append(latency_ms)
        self.recent.append(time.monotonic())
        if len(self.recent) < 2:
            return None
        return (len(self.recent) - 1) / max(1e-9, self.recent[-1] - self.recent[0])

    def report(self, dropped: int, force: bool = False) -> LatencyReport | None:
        now = time.monotonic()
        if not force and now - self.since < self.every_s:
            return None
        totals = self.stages.get("total", [])
        if not totals:
            return None
        seconds = now - self.since
        report = LatencyReport(
            frames=len(totals),
            seconds=seconds,
            fps=len(totals) / max(seconds, 1e-9),
            p50_ms=float(np.percentile(totals, 50)),
            p95_ms=float(np.percentile(totals, 95)),
            dropped=dropped,
            stages_p50_ms={k: float(np.percentile(v, 50)) for k, v in self.stages.items() if k not in ("total", "latency")},
            latency_p50_ms=float(np.percentile(self.stages["latency"], 50)) if self.stages.get("latency") else float("nan"),
        )
        self.stages.clear()
        self.since = now
        return report


def forward_sink_events(sinks: list[Sink]) -> None:
    """Hand the event records a sink raised (``pending_events``: a recording segment opened) to every sink."""
    for source_sink in sinks:
        pending = getattr(source_sink, "pending_events", None)
        for record in pending() if pending else ():
            for sink in sinks:
                sink.event(record)


def run_source(
    pipeline: Pipeline,
    source: FrameSource,
    log_path: Path | None = None,
    max_frames: int | None = None,
    on_frame: Callable[[dict], None] | None = None,
    sinks: Iterable[Sink] = (),
    on_stats: Callable[[LatencyReport], None] | None = None,
    stats_every_s: float = 5.0,
    should_stop: Callable[[], bool] | None = None,
    on_event: Callable[[SourceEvent], None] | None = None,
    overlap: bool = False,
) -> RunSummary:
    """Process ``source`` until it ends, ``max_frames``, ``should_stop()``, a sink's stop or Ctrl-C.

    ``log_path`` adds a JSON-lines sink. ``on_stats`` receives a LatencyReport every
    ``stats_every_s`` seconds and once at the end. Sinks are closed however the run ends.
    ``overlap`` runs the SR of frame n+1 while frame n is classified (``runtime.overlap``); the
    results are the same, and each record's ``latency_ms`` counts from the frame leaving the source.
    """
    summary = RunSummary(log_path=log_path, source=source.description, overlap=overlap)
    sinks = list(sinks)
    if log_path:
        sinks.insert(0, JsonlSink(log_path))
    stats = _Stats(stats_every_s)

    def handle_events() -> None:
        for event in source.drain_events():
            record = event.record()
            summary.events.append(record)
            for sink in sinks:
                sink.event(record)
            if on_event:
                on_event(event)

    def report(force: bool = False) -> None:
        latest = stats.report(source.dropped, force)
        if latest and on_stats:
            on_stats(latest)

    block = getattr(pipeline, "provenance", None)  # the full block rides on the first frame line, its id on every one
    iterator = overlapped(pipeline, source.frames()) if overlap else source.frames()
    first_taken = None
    try:
        for item in iterator:
            handle_events()
            if should_stop and should_stop():
                summary.stopped_by = "stopped"
                break
            if item is None:  # a live source waiting for frames
                report()
                continue
            if overlap:
                (index, timestamp, frame), front, taken = item
                result = pipeline.back(front)
            else:
                index, timestamp, frame = item
                taken = time.monotonic()
                result = pipeline.process(frame)
            done = time.monotonic()
            first_taken = taken if first_taken is None else first_taken
            summary.seconds = done - first_taken
            latency_ms = (done - taken) * 1000.0
            fps = stats.add(result.timings_ms, latency_ms)
            record = result_record(index, timestamp, result)
            record["latency_ms"] = round(latency_ms, 3)
            record["wall_time"] = round(time.time(), 3)
            record["dropped"] = source.dropped
            if source.live:
                record["connection"] = getattr(source, "connection", 0)
            record["fps"] = round(fps, 2) if fps else None
            record["provenance"] = frame_provenance(block, getattr(pipeline, "enhance", None), result.enhanced_applied)
            if block and summary.frames == 0:
                record["provenance_block"] = block
            summary.frames += 1
            summary.totals_ms.append(result.timings_ms["total"])
            summary.latencies_ms.append(latency_ms)
            keep = True
            for sink in sinks:
                keep = sink.frame(record, frame, result) and keep
            forward_sink_events(sinks)
            if on_frame:
                on_frame(record)
            if not keep:
                summary.stopped_by = "user"
                break
            if max_frames and summary.frames >= max_frames:
                summary.stopped_by = "max_frames"
                break
            report()
    except KeyboardInterrupt:
        summary.stopped_by = "interrupted"
    finally:
        close = getattr(iterator, "close", None)
        if close:
            close()  # stops a live source's reader thread
        try:
            handle_events()
            report(force=True)
        finally:
            for sink in sinks:
                sink.close()
    summary.dropped = source.dropped
    return summary
