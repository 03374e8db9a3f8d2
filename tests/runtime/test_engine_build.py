"""Engines built where they run: jetson/cuda plan TensorRT engines from an ONNX-only bundle.

The TensorRT tests need tensorrt, a CUDA buffer binding and an NVIDIA GPU; elsewhere they skip
with the reason. No test here makes or loads a stand-in engine.
"""

import dataclasses
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.devices.detect import bundle_fits
from echosr_edge.devices.profiles import ON_DEVICE, engine_source, get_profile
from echosr_edge.errors import BundleError
from echosr_edge.runtime.checks import ModelCheck
from echosr_edge.runtime.engine_build import BuildSettings, _input_shapes, plan_engines, shortfall
from echosr_edge.runtime.engine_cache import GpuIdentity

ORIN = GpuIdentity("Orin (nvgpu)", "8.7")


def tensorrt_10_here():
    """What plan_engines reads of TensorRT: its version and whether FP16 is a builder flag."""
    return SimpleNamespace(__version__="10.3.0", BuilderFlag=SimpleNamespace(FP16=1, INT8=2))


def with_symmetric_int8(manifest: Manifest) -> Manifest:
    models = []
    for m in manifest.models:
        arts = tuple(
            dataclasses.replace(a, build={**a.build, "activations": "int8 symmetric"}) if a.precision == "int8" else a
            for a in m.artifacts
        )
        models.append(dataclasses.replace(m, artifacts=arts))
    return dataclasses.replace(manifest, models=tuple(models))


def test_jetson_runs_an_onnx_only_bundle_through_an_engine_built_from_the_fp32_onnx(bundle_dir):
    manifest = Manifest.load(bundle_dir)
    assert all(a.format == "onnx" for m in manifest.models for a in m.artifacts)
    jetson = get_profile("jetson")
    for entry in manifest.models:
        art = jetson.choose_artifact(entry)
        assert (art.format, art.precision, art.build[ON_DEVICE]) == ("tensorrt", "fp16", True)
        assert art.sha256 == entry.artifact("onnx", "fp32").sha256
    assert bundle_fits(jetson, manifest)


def test_cuda_without_tensorrt_keeps_onnx_runtime(bundle_dir):
    entry = Manifest.load(bundle_dir).models[0]
    art = get_profile("cuda").with_formats(("onnx",)).choose_artifact(entry)
    assert art.format == "onnx"


def test_an_int8_engine_refuses_the_cpu_tuned_uint8_onnx_naming_the_export_option(bundle_dir):
    entry = Manifest.load(bundle_dir).models[0]
    with pytest.raises(BundleError, match="uint8 asymmetric activations.*--onnx-int8 symmetric"):
        engine_source(entry, "int8")


def test_an_int8_engine_builds_from_the_symmetric_qdq_onnx(bundle_dir):
    entry = with_symmetric_int8(Manifest.load(bundle_dir)).models[0]
    assert engine_source(entry, "int8") == entry.artifact("onnx", "int8")


def test_strongly_typed_tensorrt_builds_fp16_from_the_fp16_onnx_only(bundle_dir):
    entry = Manifest.load(bundle_dir).models[0]
    with pytest.raises(BundleError, match="no FP16 ONNX"):
        engine_source(entry, "fp16", strongly_typed=True)


def test_each_model_is_keyed_by_its_own_onnx_and_nothing_is_cached_yet(bundle_dir, tmp_path):
    manifest = Manifest.load(bundle_dir)
    plans = plan_engines(bundle_dir, manifest, BuildSettings(cache_dir=tmp_path), tensorrt_10_here(), ORIN)
    assert [p.model for p in plans] == manifest.model_names
    assert all(p.cached is None and p.key.tensorrt == "10.3.0" and p.key.gpu == ORIN.name for p in plans)
    assert [p.key.onnx_sha256 for p in plans] == [m.artifact("onnx", "fp32").sha256 for m in manifest.models]
    assert len({p.key.digest for p in plans}) == len(plans)


def test_dynamic_batch_and_size_get_a_range_around_the_models_input(bundle_dir):
    entry = next(m for m in Manifest.load(bundle_dir).models if m.role == "sr")
    size = int(entry.preprocessing["hr_size"]) // int(entry.scale)
    lo, opt, hi = _input_shapes(entry, (-1, 1, -1, -1))
    assert opt == (1, 1, size, size) and lo[0] == 1 and hi[0] > 1 and hi[2] == 2 * size


def test_a_failed_check_says_by_how_much():
    psnr = ModelCheck("sr", "tensorrt", "int8", "psnr_vs_fp32_db", 31.25, 40.0, False)
    agree = ModelCheck("view", "tensorrt", "int8", "agreement_vs_fp32", 0.9, 0.99, False)
    assert shortfall(psnr) == "PSNR vs FP32 31.25 dB, 8.75 dB under the 40 dB budget"
    assert shortfall(agree) == "agreement with FP32 0.900, 0.090 under the 0.99 budget"


def test_engines_build_without_tensorrt_says_what_is_missing_in_one_line(bundle_dir):
    pytest.importorskip("onnxruntime")
    try:
        import tensorrt  # noqa: F401

        pytest.skip("tensorrt is installed here")
    except ImportError:
        pass
    done = subprocess.run([sys.executable, "-m", "echosr_edge", "engines", "build", "--bundle", str(bundle_dir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "'tensorrt' package" in done.stderr


def on_an_orin_without_engines(monkeypatch):
    """Detection and TensorRT's version as an Orin with JetPack 6.1 reports them (the cache is empty;
    nothing here builds or loads an engine)."""
    from echosr_edge.devices import detect
    from echosr_edge.runtime import engine_build
    from tests.devices.test_detect import JETSON

    monkeypatch.setattr(detect, "MachineFacts", lambda: JETSON)
    monkeypatch.setattr(engine_build, "tensorrt_here", lambda: (tensorrt_10_here(), ORIN))


def test_no_build_refuses_naming_the_models_and_the_command_that_builds_them(monkeypatch, bundle_dir, tmp_path):
    from echosr_edge.runtime.engine_build import EnginesMissing, ensure_engines

    on_an_orin_without_engines(monkeypatch)
    with pytest.raises(EnginesMissing) as caught:
        ensure_engines(bundle_dir, Manifest.load(bundle_dir), BuildSettings(cache_dir=tmp_path), allow_build=False,
                       build_command="echosr-edge engines build --bundle B --device jetson --precision fp16")
    message = str(caught.value)
    assert all(name in message for name in Manifest.load(bundle_dir).model_names)
    assert "Orin (nvgpu), TensorRT 10.3.0" in message and message.endswith("--device jetson --precision fp16")


def test_run_with_no_build_stops_before_the_first_frame_in_one_line(monkeypatch, bundle_dir, camus_root, tmp_path):
    from click.testing import CliRunner

    from echosr_edge.cli import main

    on_an_orin_without_engines(monkeypatch)
    result = CliRunner().invoke(main, ["run", "--bundle", str(bundle_dir), "--device", "jetson", "--no-build", "--headless",
                                       "--engine-cache", str(tmp_path), "--source", str(camus_root / "patient0001")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"echosr-edge engines build --bundle {bundle_dir} --device jetson --precision fp16" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_build_is_announced_before_it_starts_with_the_last_builds_time(bundle_dir, tmp_path):
    from echosr_edge.cli._engines import describe_event, describe_start
    from echosr_edge.runtime.engine_build import BuildEvent

    plans = plan_engines(bundle_dir, Manifest.load(bundle_dir), BuildSettings(cache_dir=tmp_path), tensorrt_10_here(), ORIN)
    line = describe_start(plans, {"seconds": 612.0})
    assert line.startswith(f"building {len(plans)} TensorRT engine(s) for this device before starting")
    assert "the last build here took 10.2 min" in line
    assert "no earlier build on record" in describe_start(plans, None)
    event = BuildEvent("sr", 1, 3, "cached", 95.24, "sr (tensorrt/fp16): psnr_vs_fp32_db 52.1 dB (budget 40 dB) ok")
    assert describe_event(event) == "  [1/3] sr: cached after 95.2 s (sr (tensorrt/fp16): psnr_vs_fp32_db 52.1 dB (budget 40 dB) ok)"


def test_bench_on_jetson_times_the_engines_the_device_builds(bundle_dir):
    from echosr_edge.runtime.bench import bundle_targets

    targets = bundle_targets(bundle_dir, Manifest.load(bundle_dir), [get_profile("jetson")])
    assert [(t.format, t.precision) for t in targets] == [("tensorrt", "fp32"), ("tensorrt", "fp16")]  # no symmetric INT8 ONNX


# --- where TensorRT and a GPU exist -------------------------------------------------------------


@pytest.fixture()
def tensorrt_gpu():
    trt = pytest.importorskip("tensorrt", reason="building engines needs TensorRT (pip install 'echosr-edge[jetson]', or JetPack)")
    from echosr_edge.devices.detect import MachineFacts
    from echosr_edge.runtime.engine_cache import gpu_identity

    facts = MachineFacts()
    if facts.gpus == 0:
        pytest.skip(f"building engines needs an NVIDIA GPU: {facts.gpu_note}")
    if facts.cuda_binding is None:
        pytest.skip("running engines needs cuda-python or pycuda for GPU buffers")
    return trt, gpu_identity()


def test_a_key_mismatch_triggers_a_rebuild(tensorrt_gpu, bundle_dir, tmp_path):
    from echosr_edge.runtime.engine_build import ensure_engines

    manifest = Manifest.load(bundle_dir)
    settings = BuildSettings(precision="fp16", cache_dir=tmp_path)
    first = ensure_engines(bundle_dir, manifest, settings)
    assert first is not None and set(first.built) == set(manifest.model_names)
    assert ensure_engines(bundle_dir, manifest, settings) is None  # same key: the cache serves it
    other = dataclasses.replace(settings, workspace_gb=0.5)  # another key (as another TensorRT or GPU would be)
    rebuilt = ensure_engines(bundle_dir, manifest, other)
    assert rebuilt is not None and set(rebuilt.built) == set(manifest.model_names)
    sidecars = [json.loads(p.read_text()) for p in tmp_path.glob("*.json") if p.name != "last_build.json"]
    assert {s["key"]["workspace_bytes"] for s in sidecars} == {1 << 30, 1 << 29}


def test_a_cached_engine_tensorrt_refuses_is_rebuilt_not_loaded(tensorrt_gpu, bundle_dir, tmp_path):
    from echosr_edge.runtime.engine_build import ensure_engines

    manifest = Manifest.load(bundle_dir)
    settings = BuildSettings(precision="fp16", cache_dir=tmp_path)
    ensure_engines(bundle_dir, manifest, settings)
    plan = plan_engines(bundle_dir, manifest, settings)[0]
    plan.cached.write_bytes(plan.cached.read_bytes()[:64])  # as an engine of another TensorRT reads here
    report = ensure_engines(bundle_dir, manifest, settings)
    assert report is not None and report.built == (plan.model,)
