"""The pipeline pre-processes, enhances and classifies; it speaks only to the engine interface."""

import numpy as np
import pytest

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.devices.profiles import get_profile
from echosr_edge.errors import BundleError
from echosr_edge.runtime.pipeline import Classifier, Pipeline, load_pipeline


class FakeEngine:
    """An engine that applies a numpy function: lets the pipeline be tested without a backend."""

    def __init__(self, fn, out_name="output"):
        self.fn = fn
        self.inputs = [TensorSpec("input", ("batch", 1, None, None))]
        self.outputs = [TensorSpec(out_name, ("batch", None))]
        self.calls = []

    def __call__(self, feeds):
        x = feeds["input"]
        self.calls.append(x.shape)
        return {self.outputs[0].name: self.fn(x)}


def upsample4(x):
    return np.repeat(np.repeat(x, 4, axis=2), 4, axis=3)


def brightness_classifier(x):
    m = float(x.mean())
    return np.array([[m, 1.0 - m]], dtype=np.float32) * 10


def test_enhance_runs_sr_on_the_bicubic_downscaled_hr_frame():
    sr = FakeEngine(upsample4)
    clf = FakeEngine(brightness_classifier)
    pipeline = Pipeline(64, 4, sr, [Classifier("view", clf, ("2CH", "4CH"), 32)])
    result = pipeline.process(np.full((100, 80), 200, np.uint8))
    assert sr.calls == [(1, 1, 16, 16)]
    assert clf.calls == [(1, 1, 32, 32)]
    assert result.enhanced.shape == (64, 64)
    assert result.labels == {"view": "2CH"}
    assert sum(result.probabilities["view"].values()) == pytest.approx(1.0)


def test_colour_frames_are_converted_to_grey():
    sr = FakeEngine(upsample4)
    pipeline = Pipeline(32, 4, sr, [Classifier("view", FakeEngine(brightness_classifier), ("2CH", "4CH"), 32)])
    result = pipeline.process(np.zeros((40, 40, 3), np.uint8))
    assert result.labels["view"] == "4CH"


def test_enhance_never_skips_the_sr_engine():
    sr = FakeEngine(upsample4)
    pipeline = Pipeline(32, 4, sr, [Classifier("view", FakeEngine(brightness_classifier), ("2CH", "4CH"), 32)], enhance="never")
    result = pipeline.process(np.zeros((40, 40), np.uint8))
    assert sr.calls == [] and result.enhanced_applied is False


def test_every_stage_is_timed():
    pipeline = Pipeline(32, 4, FakeEngine(upsample4), [Classifier("view", FakeEngine(brightness_classifier), ("a", "b"), 32)])
    timings = pipeline.process(np.zeros((40, 40), np.uint8)).timings_ms
    assert set(timings) == {"preprocess", "sr", "classify_view", "classify", "total"}
    assert timings["total"] >= timings["sr"] >= 0


def test_bundle_pipeline_classifies_with_both_precisions(bundle_dir):
    frames = np.load(bundle_dir / "verification" / "frames.npy")
    for precision in ("fp32", "int8"):
        pipeline = load_pipeline(bundle_dir, get_profile("cpu"), precision=precision)
        result = pipeline.process(frames[0])
        assert result.labels["view"] in ("2CH", "4CH")


def test_asking_for_a_missing_precision_names_what_the_bundle_has(bundle_copy):
    with pytest.raises(BundleError, match="no onnx artifact at fp16.*onnx/fp32"):
        load_pipeline(bundle_copy, get_profile("cpu"), precision="fp16")
