"""One input through the pipeline: per-frame labels, ED/ES candidates, poorest frames, errors.

Fake engines stand in for the bundle's models so each behaviour has a known right answer:
P(ED) is the frame's mean brightness, the view is always 4CH, and a 'quality' model calls
low-contrast frames poor.
"""

import json

import cv2
import numpy as np

from echosr_edge.batch.inputs import InputFile
from echosr_edge.batch.process import phase_peaks, poorness, process_input, summarise
from echosr_edge.data.nifti import write_nifti
from echosr_edge.runtime.pipeline import Classifier, Pipeline
from tests.runtime.test_pipeline import FakeEngine

HR = 32




def _logits(p_first: np.ndarray) -> np.ndarray:
    p = np.clip(p_first, 1e-4, 1 - 1e-4)
    return np.stack([np.log(p), np.log(1 - p)], axis=-1)


def fake_pipeline(quality: bool = False) -> Pipeline:
    sr = FakeEngine(lambda x: np.repeat(np.repeat(x, 4, axis=2), 4, axis=3))
    phase = FakeEngine(lambda x: _logits(x.mean(axis=(1, 2, 3))))  # P(ED) = brightness
    view = FakeEngine(lambda x: _logits(np.full(len(x), 0.2)))  # always 4CH at 80 %
    classifiers = [
        Classifier("view", view, ("2CH", "4CH"), HR),
        Classifier("phase", phase, ("ED", "ES"), HR),
    ]
    if quality:

        def by_contrast(x):
            poor = np.clip(1.0 - x.std(axis=(1, 2, 3)) * 8, 0.01, 0.98)
            return np.log(np.stack([(1 - poor) * 0.7, (1 - poor) * 0.3, poor], axis=-1))

        classifiers.append(Classifier("quality", FakeEngine(by_contrast), ("good", "medium", "poor"), HR))
    return Pipeline(HR, 4, sr, classifiers)


def cine_file(tmp_path, brightness, contrast=None) -> InputFile:
    """A NIfTI cine whose frame t has mean ``brightness[t]`` and a checkerboard of ``contrast[t]``."""
    contrast = contrast if contrast is not None else [40] * len(brightness)
    board = (np.indices((64, 64)).sum(axis=0) // 8 % 2) * 2 - 1
    frames = np.stack([np.clip(b + c * board, 0, 255) for b, c in zip(brightness, contrast)]).astype(np.uint8)
    path = tmp_path / "scans" / "cine.nii.gz"
    path.parent.mkdir(exist_ok=True)
    write_nifti(path, frames, (0.3, 0.3))
    return InputFile(path, "scans/cine.nii.gz", "nifti")


def test_phase_peaks_are_local_maxima_at_or_above_the_threshold():
    p = np.array([0.9, 0.7, 0.3, 0.6, 0.55, 0.4, 0.45, 0.45, 0.2])
    assert phase_peaks(p) == [0, 3]
    assert phase_peaks(p, threshold=0.4) == [0, 3, 7]  # a plateau counts once, at its end
    assert phase_peaks(np.array([0.2, 0.3])) == []


def test_cine_gives_ed_and_es_candidates_where_their_probability_peaks(tmp_path):
    t = np.arange(13)
    brightness = 128 + 60 * np.cos(2 * np.pi * t / 12)  # bright (ED) at 0 and 12, dark (ES) at 6
    record = process_input(fake_pipeline(), cine_file(tmp_path, brightness), tmp_path / "out")
    assert record["status"] == "ok", record["error"]
    summary = record["summary"]
    assert summary["frames"] == 13
    assert summary["ed_frames"] == [0, 12] and summary["es_frames"] == [6]
    assert summary["view"] == "4CH" and summary["view_share"] == 1.0
    assert [f["labels"]["phase"] for f in record["frames"]][:2] == ["ED", "ED"]


def test_without_a_quality_model_quality_is_unknown_and_poorness_is_named_as_a_proxy(tmp_path):
    record = process_input(fake_pipeline(), cine_file(tmp_path, [100, 120, 140]), tmp_path / "out")
    frame = record["frames"][0]
    assert frame["labels"]["quality"] == "unknown" and record["summary"]["quality"] == "unknown"
    assert frame["poorness_by"] == "classifier confidence"
    assert 0.0 <= frame["poorness"] <= 1.0


def test_quality_model_ranks_the_low_contrast_frames_as_the_poorest(tmp_path):
    contrast = [60, 60, 5, 60, 2, 60, 60, 10]
    record = process_input(fake_pipeline(quality=True), cine_file(tmp_path, [128] * 8, contrast), tmp_path / "out")
    assert record["frames"][4]["labels"]["quality"] == "poor"
    assert record["frames"][0]["labels"]["quality"] == "good"
    assert record["summary"]["poorest_frame"] == 4
    assert [t["frame"] for t in record["thumbnails"]] == [4, 2, 7]
    assert all(t["before"] and t["after"] for t in record["thumbnails"])


def test_enhanced_frames_are_written_as_png_in_a_mirrored_tree(tmp_path):
    out = tmp_path / "out"
    record = process_input(fake_pipeline(), cine_file(tmp_path, [50, 150]), out)
    paths = [f["enhanced_image"] for f in record["frames"]]
    assert all(f["enhanced"] is True for f in record["frames"])
    assert paths == ["enhanced/scans/cine.nii.gz/frame_00000.png", "enhanced/scans/cine.nii.gz/frame_00001.png"]
    image = cv2.imread(str(out / paths[1]), cv2.IMREAD_UNCHANGED)
    assert image.shape == (HR, HR) and image.dtype == np.uint8
    assert abs(float(image.mean()) - 150) < 10
    json.dumps(record)  # the record is plain JSON data


def test_a_damaged_file_gives_an_error_record_and_leaves_no_images(tmp_path):
    out = tmp_path / "out"
    inp = cine_file(tmp_path, [50, 150])
    process_input(fake_pipeline(), inp, out)
    inp.path.write_bytes(inp.path.read_bytes()[:100])
    record = process_input(fake_pipeline(), inp, out)
    assert record["status"] == "error"
    assert "not a readable NIfTI file" in record["error"]
    assert record["frames"] == [] and not list((out / "enhanced").rglob("*.png"))


def test_poorness_orders_good_medium_poor():
    good = poorness({"quality": {"good": 0.9, "medium": 0.05, "poor": 0.05}})[0]
    poor = poorness({"quality": {"good": 0.05, "medium": 0.05, "poor": 0.9}})[0]
    assert good < 0.2 < 0.8 < poor


def test_summary_of_single_frame_takes_its_labels(tmp_path):
    frames = [{"frame": 0, "labels": {"view": "2CH", "quality": "unknown", "phase": "ES"},
               "probabilities": {"view": {"2CH": 0.7, "4CH": 0.3}, "phase": {"ED": 0.2, "ES": 0.8}},
               "poorness": 0.3, "ms": {"total": 1.0}}]
    summary = summarise(frames)
    assert summary["view"] == "2CH" and summary["es_frames"] == [0] and summary["ed_frames"] == []


def test_no_images_when_enhancement_is_off(tmp_path):
    pipeline = fake_pipeline()
    pipeline.enhance = "never"
    record = process_input(pipeline, cine_file(tmp_path, [50, 150]), tmp_path / "out")
    assert record["status"] == "ok" and all(f["enhanced_image"] is None and f["enhanced"] is False for f in record["frames"])
    assert not (tmp_path / "out" / "enhanced").exists()
