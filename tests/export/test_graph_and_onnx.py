"""ONNX targets: FP16 with float32 IO, dynamic shapes, onnxsim, QDQ INT8 with layers kept in float."""

import numpy as np
import pytest

from echosr_edge.errors import ConfigError
from echosr_edge.export.graph import float_layer_rule, onnx_first_last_convs, onnx_float_convs, openvino_float_convs
from echosr_edge.export.verify import run_artifact


def test_first_and_last_convs_are_found_by_graph_position(sr_onnx):
    assert onnx_first_last_convs(sr_onnx) == ["/head/head.0/Conv", "/tail/Conv"]


def test_sensitive_rule_adds_the_conv_feeding_the_first_pixel_shuffle(sr_onnx):
    assert onnx_float_convs(sr_onnx, "sensitive") == ["/head/head.0/Conv", "/upsample/upsample.0/conv/Conv", "/tail/Conv"]
    assert onnx_float_convs(sr_onnx, "none") == []


def test_openvino_finds_the_same_sensitive_convs_as_onnx(sr_onnx):
    ov = pytest.importorskip("openvino")
    names = openvino_float_convs(ov.convert_model(str(sr_onnx)), "sensitive")
    assert [n.removesuffix("/WithoutBiases") for n in names] == onnx_float_convs(sr_onnx, "sensitive")


def test_auto_policy_keeps_float_layers_for_sr_only():
    assert float_layer_rule("auto", "sr") == "sensitive" and float_layer_rule("auto", "classifier") == "none"
    assert float_layer_rule("first-last", "classifier") == "first-last" and float_layer_rule("none", "sr") == "none"
    with pytest.raises(ConfigError, match="unknown float-layer policy"):
        float_layer_rule("most", "sr")


def test_fp16_onnx_keeps_float32_io_and_tracks_fp32(sr_onnx, tmp_path, calibration_inputs):
    onnx = pytest.importorskip("onnx")
    from echosr_edge.export.onnx_fp16 import convert_fp16
    from echosr_edge.metrics import mean_psnr

    half = convert_fp16(sr_onnx, tmp_path / "sr.fp16.onnx")
    graph = onnx.load(str(half)).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in graph.initializer)
    ref, _ = run_artifact(sr_onnx, "onnx", calibration_inputs)
    out, _ = run_artifact(half, "onnx", calibration_inputs)
    assert mean_psnr(np.clip(ref, 0, 1), np.clip(out, 0, 1)) > 50.0


def test_dynamic_spatial_export_runs_at_another_size(sr_model, tmp_path):
    from echosr_edge.export.onnx_export import export_onnx
    from echosr_edge.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(sr_model.checkpoint)
    path = export_onnx(model, tmp_path / "dyn.onnx", (1, 1, 8, 8), dynamic_spatial=True)
    out, _ = run_artifact(path, "onnx", np.zeros((2, 1, 12, 10), np.float32))
    assert out.shape == (2, 1, 48, 40)


def test_simplified_onnx_keeps_outputs_and_metadata(sr_model, tmp_path, calibration_inputs):
    pytest.importorskip("onnxsim", reason="--simplify needs onnxsim")
    import onnx

    from echosr_edge.export.onnx_export import export_onnx, simplify_onnx
    from echosr_edge.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(sr_model.checkpoint)
    path = export_onnx(model, tmp_path / "s.onnx", (1, 1, 8, 8), metadata={"echosr_edge.scale": "4"})
    before, _ = run_artifact(path, "onnx", calibration_inputs)
    simplify_onnx(path)
    after, _ = run_artifact(path, "onnx", calibration_inputs)
    assert np.allclose(before, after, atol=1e-5)
    assert {p.key: p.value for p in onnx.load(str(path)).metadata_props}["echosr_edge.scale"] == "4"


def _conv_weight_is_quantised(graph, conv_name):
    producers = {o: n for n in graph.node for o in n.output}
    conv = next(n for n in graph.node if n.name == conv_name)
    weight = producers.get(conv.input[1])
    return weight is not None and weight.op_type == "DequantizeLinear"


def test_int8_qdq_keeps_first_and_last_conv_in_float(sr_onnx, tmp_path, calibration_inputs):
    onnx = pytest.importorskip("onnx")
    from echosr_edge.export.quantize_ort import quantize_int8_qdq

    floats = onnx_first_last_convs(sr_onnx)
    path = quantize_int8_qdq(sr_onnx, tmp_path / "q.onnx", calibration_inputs, nodes_to_exclude=floats)
    graph = onnx.load(str(path)).graph
    assert not any(_conv_weight_is_quantised(graph, name) for name in floats)
    assert _conv_weight_is_quantised(graph, "/body/body.0/body/body.0/Conv")


def test_symmetric_qdq_for_tensorrt_has_zero_zero_points(sr_onnx, tmp_path, calibration_inputs):
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    from echosr_edge.export.quantize_ort import quantize_int8_qdq

    path = quantize_int8_qdq(sr_onnx, tmp_path / "sym.onnx", calibration_inputs, symmetric=True, method="entropy")
    graph = onnx.load(str(path)).graph
    zero_points = [numpy_helper.to_array(t) for t in graph.initializer if t.name.endswith("zero_point")]
    assert zero_points and all(z.dtype == np.int8 and not z.any() for z in zero_points)


def test_missing_float_layer_name_is_refused(sr_onnx, tmp_path, calibration_inputs):
    from echosr_edge.export.quantize_ort import quantize_int8_qdq

    with pytest.raises(ConfigError, match="not in the graph.*/nope/Conv"):
        quantize_int8_qdq(sr_onnx, tmp_path / "q.onnx", calibration_inputs, nodes_to_exclude=["/nope/Conv"])
