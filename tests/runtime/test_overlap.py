"""Overlapped stages: SR of frame n+1 while frame n is classified, with the same results, when it pays."""

from __future__ import annotations

import time

import numpy as np
import pytest

from echosr_edge.errors import SourceError
from echosr_edge.runtime.overlap import overlap_pays
from echosr_edge.runtime.pipeline import Classifier, Pipeline
from echosr_edge.runtime.run import run_source
from tests.runtime.test_pipeline import FakeEngine, brightness_classifier, upsample4


class ListSource:
    """Frames from a list, as a file source gives them; ``fail_after`` raises like a lost stream."""

    live = False
    dropped = 0
    description = "list"

    def __init__(self, frames, fail_after: int | None = None):
        self.items = frames
        self.fail_after = fail_after
        self.closed = False

    def drain_events(self):
        return []

    def frames(self):
        try:
            for i, frame in enumerate(self.items):
                if self.fail_after is not None and i == self.fail_after:
                    raise SourceError("stream lost")
                yield i, i / 30.0, frame
        finally:
            self.closed = True


def _pipeline(stage_s: float = 0.0) -> Pipeline:
    def slow(fn):
        def run(x):
            time.sleep(stage_s)  # stands for an engine's compute, which releases the GIL as sleep does
            return fn(x)
        return run

    return Pipeline(32, 4, FakeEngine(slow(upsample4)), [Classifier("view", FakeEngine(slow(brightness_classifier)), ("a", "b"), 32)])


def _frames(n: int = 8) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (40, 36), dtype=np.uint8) for _ in range(n)]


def test_overlapped_run_gives_the_same_results_in_the_same_order():
    seen = {False: [], True: []}
    for overlap in (False, True):
        run_source(_pipeline(), ListSource(_frames()), on_frame=seen[overlap].append, overlap=overlap)
    assert [r["frame"] for r in seen[True]] == list(range(8))
    assert [(r["labels"], r["probabilities"]) for r in seen[True]] == [(r["labels"], r["probabilities"]) for r in seen[False]]


def test_overlapped_stages_raise_throughput_when_both_stages_have_their_own_cores():
    serial = run_source(_pipeline(0.03), ListSource(_frames(10)))
    overlapped = run_source(_pipeline(0.03), ListSource(_frames(10)), overlap=True)
    assert overlapped.fps > 1.3 * serial.fps
    assert overlapped.overlap and overlapped.latency_p50_ms < 1.6 * serial.latency_p50_ms


def test_a_source_error_surfaces_from_an_overlapped_run_and_the_source_is_closed():
    source = ListSource(_frames(), fail_after=3)
    with pytest.raises(SourceError, match="stream lost"):
        run_source(_pipeline(), source, overlap=True)
    assert source.closed


def test_every_record_says_its_latency_from_the_source():
    records = []
    run_source(_pipeline(), ListSource(_frames(3)), on_frame=records.append)
    assert all(r["latency_ms"] >= r["ms"]["total"] * 0.99 for r in records)


def test_overlap_is_off_when_the_engines_already_use_every_core():
    pays, why = overlap_pays(_pipeline(), threads=2, cores=2, live=True)
    assert not pays and "--threads 1 --overlap on" in why


def test_overlap_is_on_for_a_live_source_with_cores_for_both_stages():
    assert overlap_pays(_pipeline(), threads=2, cores=4, live=True)[0]


def test_overlap_is_off_for_files_and_without_sr():
    assert not overlap_pays(_pipeline(), threads=1, cores=8, live=False)[0]
    no_sr = Pipeline(32, 4, None, [Classifier("view", FakeEngine(brightness_classifier), ("a", "b"), 32)], enhance="never")
    assert "no SR stage" in overlap_pays(no_sr, threads=1, cores=8, live=True)[1]
