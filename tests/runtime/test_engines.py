"""Each adapter behind the one engine interface gives the ONNX model's answers."""

from pathlib import Path

import numpy as np
import pytest

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError
from echosr_edge.runtime.engine import ADAPTERS, Engine, open_engine, run_single


def _inputs(bundle: Path, name: str) -> np.ndarray:
    entry = Manifest.load(bundle).model(name)
    size = entry.preprocessing["hr_size"] // entry.scale if entry.role == "sr" else entry.preprocessing["input_size"]
    return np.random.default_rng(0).random((1, 1, size, size), dtype=np.float32)


def test_every_format_has_an_adapter():
    assert {"onnx", "openvino", "tensorrt"} <= set(ADAPTERS)


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(BundleError, match="no runtime adapter for format 'coreml'.*openvino"):
        open_engine(tmp_path / "m.mlmodel", "coreml")


@pytest.mark.parametrize("name", ["sr", "view"])
def test_openvino_fp32_matches_onnxruntime_fp32(openvino_bundle, name):
    x = _inputs(openvino_bundle, name)
    onnx = open_engine(openvino_bundle / f"models/{name}.fp32.onnx", "onnx")
    ov = open_engine(openvino_bundle / f"models/{name}.fp32.xml", "openvino", threads=1, inference_precision="f32")
    assert isinstance(ov, Engine)
    np.testing.assert_allclose(run_single(ov, x), run_single(onnx, x), rtol=1e-3, atol=1e-4)


def test_onnxruntime_sessions_do_not_spin_between_calls(bundle_dir):
    engine = open_engine(bundle_dir / "models/view.fp32.onnx", "onnx", threads=2)
    options = engine.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2


def test_onnxruntime_spinning_can_be_restored_to_measure_its_cost(bundle_dir):
    engine = open_engine(bundle_dir / "models/view.fp32.onnx", "onnx", spinning=True)
    with pytest.raises(RuntimeError):  # no entry: ONNX Runtime's default, spinning
        engine.session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning")


def test_openvino_engines_share_one_core_and_cache_compiled_models(openvino_bundle, tmp_path, monkeypatch):
    from echosr_edge.runtime.engines import openvino as adapter

    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(tmp_path / "cache"))
    first = open_engine(openvino_bundle / "models/view.int8.xml", "openvino", threads=1)
    cached = list((tmp_path / "cache" / "openvino").glob("*.blob"))
    second = open_engine(openvino_bundle / "models/view.int8.xml", "openvino", threads=1)
    assert cached, "the first compile leaves a blob in the cache folder"
    assert adapter.shared_core() is adapter.shared_core()
    x = _inputs(openvino_bundle, "view")
    np.testing.assert_array_equal(run_single(first, x), run_single(second, x))


def test_openvino_without_a_writable_cache_folder_still_compiles(openvino_bundle, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ECHOSR_CACHE_DIR", str(blocker))  # a file where the folder should be
    engine = open_engine(openvino_bundle / "models/view.int8.xml", "openvino", threads=1)
    assert run_single(engine, _inputs(openvino_bundle, "view")).shape[0] == 1


def test_openvino_engine_compiles_a_dynamic_batch_ir_for_one_frame(openvino_bundle):
    engine = open_engine(openvino_bundle / "models/sr.int8.xml", "openvino")
    assert engine.inputs[0].shape == (1, 1, 8, 8)
    assert run_single(engine, np.zeros((1, 1, 8, 8), np.float32)).shape == (1, 1, 32, 32)


def test_openvino_engine_keeps_the_dynamic_batch_when_asked(openvino_bundle):
    engine = open_engine(openvino_bundle / "models/sr.int8.xml", "openvino", batch=None)
    assert engine.inputs[0].shape[0] is None and engine.inputs[0].shape[1] == 1
    assert run_single(engine, np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 1, 32, 32)


def test_openvino_ir_without_its_weights_is_refused_naming_the_file(tmp_path, openvino_bundle):
    xml = tmp_path / "view.fp32.xml"
    xml.write_bytes((openvino_bundle / "models/view.fp32.xml").read_bytes())
    with pytest.raises(BundleError, match=r"view.fp32.xml: its weights view.fp32.bin are missing"):
        open_engine(xml, "openvino")


def test_altered_openvino_weights_are_refused_by_their_checksum(tmp_path, openvino_bundle):
    import shutil

    bundle = Path(shutil.copytree(openvino_bundle, tmp_path / "b"))
    with open(bundle / "models/view.fp32.bin", "r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(BundleError, match="models/view.fp32.bin does not match its checksum"):
        open_bundle(bundle)


def _tensorrt_or_skip():
    trt = pytest.importorskip("tensorrt", reason="TensorRT is not installed (the 'jetson' extra)")
    from echosr_edge.devices.detect import cuda_device_count

    gpus, why = cuda_device_count()
    if gpus == 0:
        pytest.skip(f"TensorRT needs an NVIDIA GPU: {why}")
    return trt


def _build_engine(trt, onnx_path: Path, out: Path, shape: tuple[int, ...]) -> Path:
    """Build a TensorRT engine (FP32, fixed batch 1) from an ONNX file with TensorRT's own parser."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # TensorRT 8.x needs explicit batch asked for; from 10 it is the only mode and the flag is a no-op.
    explicit = getattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH", None)
    network = builder.create_network(0 if explicit is None else 1 << int(explicit))
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(onnx_path.read_bytes()), [parser.get_error(i) for i in range(parser.num_errors)]
    config = builder.create_builder_config()
    profile = builder.create_optimization_profile()
    name = network.get_input(0).name
    profile.set_shape(name, shape, shape, shape)
    config.add_optimization_profile(profile)
    out.write_bytes(bytes(builder.build_serialized_network(network, config)))
    return out


@pytest.mark.parametrize("name", ["sr", "view"])
def test_tensorrt_engine_matches_onnxruntime(tmp_path, bundle_dir, name):
    trt = _tensorrt_or_skip()
    x = _inputs(bundle_dir, name)
    path = _build_engine(trt, bundle_dir / f"models/{name}.fp32.onnx", tmp_path / f"{name}.engine", x.shape)
    engine = open_engine(path, "tensorrt")
    expected = run_single(open_engine(bundle_dir / f"models/{name}.fp32.onnx", "onnx"), x)
    got = run_single(engine, x)
    np.testing.assert_allclose(got, expected, rtol=1e-2, atol=1e-3)
    assert engine.inputs[0].shape == x.shape


def test_tensorrt_engine_built_elsewhere_is_refused_with_the_reason(tmp_path):
    _tensorrt_or_skip()
    bogus = tmp_path / "other-gpu.engine"
    bogus.write_bytes(b"not an engine for this GPU" * 10)
    with pytest.raises(BundleError, match="cannot deserialize it"):
        open_engine(bogus, "tensorrt")
