"""Calibration sets: stratified, warned about when small, refused when empty or wrongly shaped."""

import logging
import types

import numpy as np
import pytest

from echosr_edge.calibration.sets import check_model_inputs, from_frames, from_stack, stratified_frames
from echosr_edge.errors import ConfigError, DataError


def test_empty_calibration_stack_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "calib.npy"
    np.save(path, np.zeros((0, 64, 64), np.uint8))
    with pytest.raises(DataError, match=r"calib\.npy: the calibration set is empty"):
        from_stack(path, 16)


def test_colour_calibration_stack_is_refused_with_its_shape(tmp_path):
    path = tmp_path / "rgb.npy"
    np.save(path, np.zeros((4, 64, 64, 3), np.uint8))
    with pytest.raises(DataError, match=r"rgb\.npy: a calibration stack must be N×H×W grey frames, got shape \(4, 64, 64, 3\)"):
        from_stack(path, 16)


def test_calibration_inputs_of_the_wrong_size_are_refused():
    with pytest.raises(DataError, match="calibration inputs are 16×16, the model takes 8×8"):
        check_model_inputs(np.zeros((4, 1, 16, 16), np.float32), (8, 8), "calibration inputs")


def test_an_empty_frame_list_is_refused():
    with pytest.raises(DataError, match="the calibration set is empty"):
        stratified_frames([], 8)


def test_int8_quantiser_refuses_a_wrongly_shaped_calibration_array(sr_onnx, tmp_path):
    from echosr_edge.export.quantize_ort import quantize_int8_qdq

    with pytest.raises(DataError, match=r"N×1×H×W \(grey\), got shape \(4, 3, 8, 8\)"):
        quantize_int8_qdq(sr_onnx, tmp_path / "q.onnx", np.zeros((4, 3, 8, 8), np.float32), spatial=(8, 8))
    assert not (tmp_path / "q.onnx").exists()


def test_small_calibration_set_warns(frames, caplog):
    with caplog.at_level(logging.WARNING, logger="echosr_edge.calibration.sets"):
        cal = from_frames(frames, 8)
    assert cal.too_small and len(cal) == 8
    assert "fewer than 32 recommended" in caplog.text


def test_stratified_set_draws_from_every_quality_tier(frames):
    cal = from_frames(frames, 12)
    tiers = {key.split("/")[0] for key in cal.strata}
    assert tiers == {f.quality for f in frames}
    assert sum(cal.strata.values()) == 12 and len(cal.labels["view"]) == 12


def test_stack_calibration_is_seeded_and_capped(tmp_path):
    path = tmp_path / "frames.npy"
    np.save(path, np.arange(40 * 16 * 16, dtype=np.uint16).reshape(40, 16, 16) % 255)
    a, b = from_stack(path, 10, seed=3), from_stack(path, 10, seed=3)
    assert len(a) == 10 and all(np.array_equal(x, y) for x, y in zip(a.images, b.images))


def test_nncf_dataset_yields_single_frames(calibration_inputs):
    pytest.importorskip("nncf")
    from echosr_edge.calibration.nncf_reader import make_nncf_dataset

    items = list(make_nncf_dataset(calibration_inputs, (8, 8)).get_inference_data())
    assert len(items) == len(calibration_inputs) and items[0].shape == (1, 1, 8, 8)


def test_ort_reader_rewinds(calibration_inputs):
    from echosr_edge.calibration.ort_reader import make_ort_reader

    reader = make_ort_reader("input", calibration_inputs[:3])
    first = [reader.get_next() for _ in range(4)]
    reader.rewind()
    assert first[3] is None and np.array_equal(reader.get_next()["input"], first[0]["input"])


def test_percentile_has_no_tensorrt_calibrator():
    from echosr_edge.calibration.methods import tensorrt_calibrator_base

    with pytest.raises(ConfigError, match="no percentile calibrator"):
        tensorrt_calibrator_base(types.SimpleNamespace(__version__="10.3"), "percentile")


def test_tensorrt_without_implicit_int8_points_to_the_qdq_route():
    from echosr_edge.calibration.methods import tensorrt_calibrator_base

    trt11 = types.SimpleNamespace(__version__="11.4")  # TensorRT 11 has no IInt8 calibrators
    with pytest.raises(ConfigError, match="--trt-int8 qdq"):
        tensorrt_calibrator_base(trt11, "entropy")


def test_unknown_calibration_method_lists_the_known_ones():
    from echosr_edge.calibration.methods import check_method

    with pytest.raises(ConfigError, match="minmax, entropy, percentile"):
        check_method("kl")
