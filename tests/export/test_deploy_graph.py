"""The exact CPU rewrite of the FP32 ONNX: narrow convolutions computed on a coarser grid."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from echosr_edge.export.deploy_graph import optimise_for_cpu  # noqa: E402


def conv_model(c_in=8, c_out=1, size=64, kernel=9, stride=1, bias=True):
    """input (N×c_in×size²) → Conv(c_out, kernel, same padding) → output; seeded random weights."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((c_out, c_in, kernel, kernel)).astype(np.float32), "w")]
    inputs = ["input", "w"]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(c_out).astype(np.float32), "b"))
        inputs.append("b")
    out = size // stride
    node = helper.make_node("Conv", inputs, ["output"], name="/tail/Conv", kernel_shape=[kernel, kernel],
                            pads=[kernel // 2] * 4, strides=[stride, stride])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", c_in, size, size])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", c_out, out, out])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def test_one_channel_conv_runs_on_a_four_times_coarser_grid_with_the_same_output():
    model = conv_model()
    x = np.random.default_rng(1).random((2, 8, 64, 64), dtype=np.float32)
    before = run(model, x)
    done = optimise_for_cpu(model)
    assert [n.op_type for n in model.graph.node] == ["SpaceToDepth", "Conv", "DepthToSpace"]
    assert done == ["/tail/Conv: 1-channel 9×9 conv on a 4× coarser grid (16 channels)"]
    np.testing.assert_allclose(run(model, x), before, rtol=1e-5, atol=1e-4)


def test_the_rewritten_conv_keeps_its_name_so_float_layer_scopes_still_find_it():
    model = conv_model(bias=False)
    optimise_for_cpu(model)
    conv = [n for n in model.graph.node if n.op_type == "Conv"]
    assert [c.name for c in conv] == ["/tail/Conv"]
    assert {i.name for i in model.graph.initializer} == {"/tail/Conv.coarse_weight"}  # the old weights are gone


def test_three_channel_conv_uses_a_three_times_coarser_grid():
    model = conv_model(c_in=4, c_out=3, size=66, kernel=7)
    x = np.random.default_rng(2).random((1, 4, 66, 66), dtype=np.float32)
    before = run(model, x)
    assert optimise_for_cpu(model) == ["/tail/Conv: 3-channel 7×7 conv on a 3× coarser grid (27 channels)"]
    np.testing.assert_allclose(run(model, x), before, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(c_out=16), dict(stride=2), dict(size=32), dict(c_out=8, kernel=3)],
                         ids=["wide", "strided", "small map", "3×3: 4× the multiply-adds for 2× the lanes"])
def test_convs_that_already_fill_the_vector_or_cost_little_are_left_alone(kwargs):
    model = conv_model(**kwargs)
    assert optimise_for_cpu(model) == []
    assert [n.op_type for n in model.graph.node] == ["Conv"]


def test_exported_sr_keeps_its_outputs_and_its_float_layer_names(sr_onnx, tmp_path, calibration_inputs, monkeypatch):
    from echosr_edge.export import deploy_graph
    from echosr_edge.export.deploy_graph import optimise_onnx_file
    from echosr_edge.export.graph import onnx_float_convs
    from echosr_edge.export.verify import run_artifact

    before, _ = run_artifact(sr_onnx, "onnx", calibration_inputs)
    names = onnx_float_convs(sr_onnx, "sensitive")
    copy = tmp_path / "sr.onnx"
    copy.write_bytes(sr_onnx.read_bytes())
    monkeypatch.setattr(deploy_graph, "MIN_PIXELS", 0)  # the tiny SR writes 32², below the size worth rewriting
    assert optimise_onnx_file(copy)
    after, _ = run_artifact(copy, "onnx", calibration_inputs)
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert onnx_float_convs(copy, "sensitive") == names
