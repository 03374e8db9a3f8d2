"""Live-view fixtures: a publisher thread that feeds a hub with real pipeline results."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from echosr_edge.web import LiveHub


class Publisher(threading.Thread):
    """Stands in for the run loop: real pipeline results on a bundle's frames, paced like a live source.

    ``records`` maps frame index → the JSON record published with it, and ``means`` → the mean
    grey levels of its two images, so a test can compare what a page shows with what the
    pipeline made of that very frame.
    """

    def __init__(self, pipeline, frames: np.ndarray, hub: LiveHub, fps: float = 20.0):
        super().__init__(name="test-publisher", daemon=True)
        from echosr_edge.runtime.run import result_record

        self._result_record = result_record
        self.pipeline, self.frames, self.hub, self.period = pipeline, frames, hub, 1.0 / fps
        self.records: dict[int, dict] = {}
        self.means: dict[int, tuple[float, float]] = {}  # frame → mean grey level (0-255) of original, enhanced
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        index, start = 0, time.monotonic()
        try:
            while not self.halt.is_set():
                frame = self.frames[index % len(self.frames)]
                result = self.pipeline.process(frame)
                record = self._result_record(index, time.monotonic() - start, result)
                record["dropped"] = 0
                self.records[index] = record
                self.means[index] = (float(np.mean(frame)), float(np.mean(result.enhanced)) * 255.0)
                self.hub.publish(frame, result.enhanced, record)
                index += 1
                self.halt.wait(self.period)  # the source's frame interval
        except BaseException as exc:  # surfaced by the fixture's teardown
            self.error = exc

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


def demo_inputs(bundle_dir: Path) -> tuple[Path, np.ndarray]:
    """The bundle and frames to show: the demo's (ECHOSR_WEB_DEMO=<demo out>) or the test bundle's."""
    import os

    demo = os.environ.get("ECHOSR_WEB_DEMO")
    if demo:
        from echosr_edge.runtime.sources import open_source

        source = open_source(Path(demo) / "demo.mp4")
        return Path(demo) / "bundle", np.stack([f for _, _, f in source.frames()])
    return bundle_dir, np.load(bundle_dir / "verification" / "frames.npy")


@pytest.fixture()
def live_run(bundle_dir, tmp_path):
    """A hub fed at 20 fps by the real pipeline; the enhancement toggle sets the pipeline's mode."""
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.pipeline import load_pipeline

    bundle, frames = demo_inputs(bundle_dir)
    pipeline = load_pipeline(bundle, get_profile("cpu"), enhance="always")
    # The skeleton pipeline knows "always" and "never"; "auto" comes with the quality gate.
    hub = LiveHub(snapshot_dir=tmp_path / "snapshots", enhance_mode="always", enhance_modes=("always", "never"))
    hub.on_enhance_mode(lambda mode: setattr(pipeline, "enhance", mode))
    publisher = Publisher(pipeline, frames, hub)
    publisher.start()
    yield publisher
    publisher.stop()
    assert publisher.error is None, publisher.error
