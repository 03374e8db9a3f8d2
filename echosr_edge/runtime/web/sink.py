"""The run loop's sink that feeds the live view: frames to the hub, source events to its status."""

from __future__ import annotations

import numpy as np

from echosr_edge.data.preprocess import to_grey
from echosr_edge.runtime.enhanced_view import display_aspect, pane_title, restore_aspect
from echosr_edge.runtime.pipeline import FrameResult, Pipeline
from echosr_edge.runtime.web.hub import LiveHub

_EVENT_STATUS = {"disconnected": "reconnecting", "reconnected": "live", "gave_up": "stopped"}


class WebSink:
    """Publishes each processed frame to a LiveHub; enhancement changes on the page reach the pipeline."""

    def __init__(self, hub: LiveHub, pipeline: Pipeline, sr_check=None):
        self.hub = hub
        self.pipeline = pipeline
        hub.provenance = getattr(pipeline, "provenance", None)
        # What the second pane is, for its heading; beats_bicubic False: the page never says "enhanced".
        hub.pane = {"title": pane_title(sr_check, pipeline.scale),
                    "sr_check": sr_check.to_dict() if sr_check is not None else None}
        hub.on_enhance_mode(self._set_mode)

    def _set_mode(self, mode: str) -> None:
        if mode in ("always", "auto") and self.pipeline.sr is None:
            raise ValueError("this run has no SR model loaded (it was started with --enhance never)")
        if mode == "auto" and self.pipeline.quality is None:
            raise ValueError("auto needs the bundle's quality model, which this run has not loaded")
        self.pipeline.enhance = mode

    def frame(self, record: dict, original: np.ndarray, result: FrameResult) -> bool:
        grey = to_grey(original)
        # The models' square back at the aspect of the region it came from: no stretched fan.
        enhanced = restore_aspect(result.enhanced, display_aspect(grey, result.crop))
        # The hub keeps references: the pipeline makes new arrays every frame, so none is reused.
        self.hub.publish(grey, enhanced, record)
        return True

    def event(self, record: dict) -> None:
        status = _EVENT_STATUS.get(record.get("event", ""))
        if status:
            self.hub.set_status(status, record.get("detail", ""))

    def close(self) -> None:
        self.hub.set_status("stopped", "the pipeline has stopped")
