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


def test_classifier_input_resize_is_done_once_per_size_and_timed_apart_from_the_engines(monkeypatch):
    from echosr_edge.runtime import pipeline as module

    sizes = []
    real = module.cv2.resize
    monkeypatch.setattr(module.cv2, "resize", lambda img, dsize, **kw: sizes.append(dsize) or real(img, dsize, **kw))
    view, phase = FakeEngine(brightness_classifier), FakeEngine(brightness_classifier)
    clfs = [Classifier("view", view, ("a", "b"), 16), Classifier("phase", phase, ("a", "b"), 16)]
    timings = Pipeline(32, 4, FakeEngine(upsample4), clfs).process(np.zeros((40, 40), np.uint8)).timings_ms
    assert sizes.count((16, 16)) == 1
    assert view.calls == phase.calls == [(1, 1, 16, 16)]
    assert {"resize", "classify_view", "classify_phase"} <= set(timings)


def test_bundle_pipeline_classifies_with_both_precisions(bundle_dir):
    frames = np.load(bundle_dir / "verification" / "frames.npy")
    for precision in ("fp32", "int8"):
        pipeline = load_pipeline(bundle_dir, get_profile("cpu"), precision=precision)
        result = pipeline.process(frames[0])
        assert result.labels["view"] in ("2CH", "4CH")


def test_asking_for_a_missing_precision_names_what_the_bundle_has(bundle_copy):
    with pytest.raises(BundleError, match="no onnx artifact at fp16.*onnx/fp32"):
        load_pipeline(bundle_copy, get_profile("cpu"), precision="fp16")


def quality_by_brightness(x):
    """'good' for bright frames, 'poor' for dark ones (labels good, medium, poor)."""
    m = float(x.mean())
    return np.array([[m, 0.0, 1.0 - m]], dtype=np.float32) * 10


def _auto_pipeline(sr):
    quality = Classifier("quality", FakeEngine(quality_by_brightness), ("good", "medium", "poor"), 32)
    view = Classifier("view", FakeEngine(brightness_classifier), ("2CH", "4CH"), 32)
    return Pipeline(32, 4, sr, [view], enhance="auto", quality=quality)


def test_auto_enhances_only_frames_the_quality_model_does_not_rate_good():
    sr = FakeEngine(upsample4)
    pipeline = _auto_pipeline(sr)
    bright = pipeline.process(np.full((40, 40), 230, np.uint8))
    dark = pipeline.process(np.full((40, 40), 20, np.uint8))
    assert (bright.quality, bright.enhanced_applied) == ("good", False)
    assert (dark.quality, dark.enhanced_applied) == ("poor", True)
    assert len(sr.calls) == 1
    assert "quality" in dark.timings_ms and dark.quality_probabilities["poor"] > 0.5


def test_auto_without_a_quality_model_enhances_every_frame_and_says_so():
    sr = FakeEngine(upsample4)
    pipeline = Pipeline(32, 4, sr, [Classifier("view", FakeEngine(brightness_classifier), ("2CH", "4CH"), 32)], enhance="auto")
    assert pipeline.enhance == "always"
    assert any("no quality model" in note for note in pipeline.notes)
    assert pipeline.process(np.full((40, 40), 230, np.uint8)).enhanced_applied


def test_pipeline_crops_a_screen_capture_to_its_sector_before_resizing(screen_capture):
    from echosr_edge.runtime.sector import SectorCropper

    canvas, (top, left, bottom, right) = screen_capture
    pipeline = Pipeline(32, 4, FakeEngine(upsample4), [Classifier("view", FakeEngine(brightness_classifier), ("a", "b"), 32)],
                        sector=SectorCropper())
    result = pipeline.process(canvas)
    assert result.crop is not None and abs(result.crop.top - top) <= 6 and abs(result.crop.left - left) <= 6
    uncropped = Pipeline(32, 4, FakeEngine(upsample4), [Classifier("view", FakeEngine(brightness_classifier), ("a", "b"), 32)])
    # The fan fills the cropped input, so it is brighter on average than the whole screen.
    assert pipeline.preprocess(canvas)[0].mean() > uncropped.preprocess(canvas)[0].mean()


def test_load_pipeline_records_the_artifact_each_model_runs(bundle_dir):
    from echosr_edge.bundle.manifest import Manifest

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"))
    # INT8 wherever the exporter's verification passed it, FP32 where it did not
    expected = {m.name: "int8" if m.artifact("onnx", "int8").verification["passed"] else "fp32"
                for m in Manifest.load(bundle_dir).models}
    assert {n: a.precision for n, a in pipeline.artifacts.items()} == expected
    assert set(pipeline.engines) == {"sr", "view"}


def test_openvino_pipeline_labels_like_the_onnx_pipeline(openvino_bundle):
    frames = np.load(openvino_bundle / "verification" / "frames.npy")
    onnx = load_pipeline(openvino_bundle, get_profile("cpu"), precision="fp32")
    ov = load_pipeline(openvino_bundle, get_profile("intel-cpu"), precision="fp32")
    assert ov.artifacts["sr"].format == "openvino"
    for frame in frames:
        a, b = onnx.process(frame), ov.process(frame)
        assert a.labels == b.labels
        np.testing.assert_allclose(a.enhanced, b.enhanced, atol=1e-3)


def test_bundle_quality_model_gates_enhancement_in_auto_mode(bundle_copy):
    """The view model stands in for a quality model (task 'quality', labels good/poor)."""
    import dataclasses

    from echosr_edge.bundle.manifest import Manifest

    manifest = Manifest.load(bundle_copy)
    view = manifest.model("view")
    quality = dataclasses.replace(view, name="quality", task="quality", labels=("good", "poor"), reference={})
    dataclasses.replace(manifest, models=manifest.models + (quality,)).save(bundle_copy)

    auto = load_pipeline(bundle_copy, get_profile("cpu"), precision="fp32", enhance="auto")
    assert auto.quality is not None and [c.name for c in auto.classifiers] == ["view"] and not auto.notes
    results = [auto.process(f) for f in np.load(bundle_copy / "verification" / "frames.npy")]
    assert all(r.enhanced_applied == (r.quality != "good") for r in results)
    assert load_pipeline(bundle_copy, get_profile("cpu"), enhance="always").quality is None


def test_a_model_whose_int8_missed_its_export_budget_runs_fp32_and_the_pipeline_says_why(bundle_dir):
    from dataclasses import replace

    from echosr_edge.bundle.manifest import Manifest

    manifest = Manifest.load(bundle_dir)
    failed = {"metric": "agreement_vs_fp32", "value": 0.96, "passed": False, "failures": ["agreement 96.0% < 99%"]}
    view = manifest.model("view")
    view = replace(view, artifacts=tuple(replace(a, verification=failed) if a.precision == "int8" else a for a in view.artifacts))
    manifest = replace(manifest, models=tuple(view if m.name == "view" else m for m in manifest.models))

    pipeline = load_pipeline(bundle_dir, get_profile("cpu"), manifest=manifest)
    assert pipeline.artifacts["view"].precision == "fp32"
    assert pipeline.artifacts["sr"].precision == "int8"
    assert any("view: onnx/int8 missed its export budget (agreement 96.0% < 99%)" in n for n in pipeline.notes)

    forced = load_pipeline(bundle_dir, get_profile("cpu"), precision="int8", manifest=manifest)
    assert forced.artifacts["view"].precision == "int8"
