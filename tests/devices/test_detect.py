"""Detection says which profiles run here and, for the others, exactly what is missing."""

from dataclasses import dataclass, replace

import pytest
from click.testing import CliRunner

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.devices.detect import DeviceUnavailable, assess, choose_device, detect_devices, require_device


@dataclass(frozen=True)
class FakeFacts:
    """A made-up machine: a plain x86 laptop unless a test says otherwise."""

    onnxruntime: str | None = "1.20"
    ort_providers: tuple = ("CPUExecutionProvider",)
    openvino: str | None = None
    openvino_devices: tuple = ()
    tensorrt: str | None = None
    cuda_binding: str | None = None
    gpus: int = 0
    gpu_note: str = "no NVIDIA GPU driver (libcuda) on this machine"
    jetson_model: str | None = None
    cpu_vendor: str = "GenuineIntel"
    cpu_model: str = "Intel Core i5"
    cpu_arch: str = "x86_64"
    cpu_flags: frozenset = frozenset({"sse4_2", "avx", "avx2", "fma"})
    board_model: str | None = None


JETSON = FakeFacts(tensorrt="10.3", cuda_binding="cuda-python", gpus=1, gpu_note="", jetson_model="NVIDIA Jetson Orin Nano")


def test_jetson_without_tensorrt_names_the_package_the_extra_and_the_gpu():
    status = assess("jetson", FakeFacts())
    assert not status.available
    assert "'tensorrt' package" in status.reason and 'echosr-edge[jetson]' in status.reason
    assert "NVIDIA GPU" in status.reason


def test_jetson_with_tensorrt_but_no_cuda_binding_asks_for_cuda_python():
    status = assess("jetson", replace(JETSON, cuda_binding=None))
    assert not status.available and "cuda-python" in status.reason


def test_jetson_board_with_tensorrt_runs_tensorrt():
    status = assess("jetson", JETSON)
    assert status.available and status.formats == ("tensorrt",)
    assert any("Orin" in n for n in status.notes)


def test_tensorrt_on_a_desktop_gpu_runs_the_jetson_profile_with_a_note():
    status = assess("jetson", replace(JETSON, jetson_model=None))
    assert status.available and any("not a Jetson board" in n for n in status.notes)


def test_cuda_falls_back_to_onnxruntime_gpu_when_tensorrt_is_absent():
    facts = FakeFacts(ort_providers=("CUDAExecutionProvider", "CPUExecutionProvider"), gpus=1, gpu_note="")
    assert assess("cuda", facts).formats == ("onnx",)
    assert assess("cuda", replace(facts, tensorrt="10.3", cuda_binding="cuda-python")).formats == ("tensorrt", "onnx")


def test_cuda_without_a_gpu_says_so():
    status = assess("cuda", FakeFacts(ort_providers=("CUDAExecutionProvider",)))
    assert not status.available and "NVIDIA GPU" in status.reason


AMD = FakeFacts(openvino="2025.1", openvino_devices=("CPU",), cpu_vendor="AuthenticAMD", cpu_model="AMD EPYC")
PI5 = FakeFacts(openvino=None, cpu_vendor="", cpu_model="", cpu_arch="aarch64", cpu_flags=frozenset({"fp", "asimd", "asimddp"}),
                board_model="Raspberry Pi 5 Model B Rev 1.0")


def test_intel_cpu_needs_openvino_and_notes_a_non_intel_cpu():
    assert "'openvino' package" in assess("intel-cpu", FakeFacts()).reason
    status = assess("intel-cpu", AMD)
    assert status.available and any("not an Intel CPU" in n for n in status.notes)


def test_auto_runs_openvino_on_an_amd_cpu_and_says_why():
    choice = choose_device("auto", facts=AMD)
    assert choice.profile.name == "intel-cpu"
    assert "OpenVINO is installed" in choice.reason and "AVX2" in choice.reason and "AMD EPYC" in choice.reason


def test_auto_names_the_best_simd_level_the_cpu_reports():
    vnni = replace(AMD, cpu_flags=frozenset({"avx2", "avx512f", "avx512_vnni"}))
    assert "AVX-512 VNNI" in choose_device("auto", facts=vnni).reason


def test_auto_without_openvino_runs_onnxruntime_and_says_openvino_is_missing():
    choice = choose_device("auto", facts=FakeFacts())
    assert choice.profile.name == "cpu" and "OpenVINO is not installed" in choice.reason


def test_auto_on_an_arm64_board_runs_onnxruntime_first_even_with_openvino():
    pi = replace(PI5, openvino="2025.1", openvino_devices=("CPU",))
    choice = choose_device("auto", facts=pi)
    assert choice.profile.name == "cpu" and "ARM64 (cortex-a76)" in choice.reason


def test_cpu_profile_on_an_arm64_board_names_the_board_and_its_core_class():
    status = assess("cpu", PI5)
    assert any("Raspberry Pi 5" in n and "cortex-a76" in n for n in status.notes)


def test_an_explicit_device_says_it_was_asked_for():
    assert choose_device("cpu", facts=AMD).reason == "asked for with --device cpu"


def test_require_device_raises_with_what_is_missing():
    with pytest.raises(DeviceUnavailable, match="device 'jetson' cannot run on this machine: missing: the 'tensorrt'"):
        require_device("jetson", facts=FakeFacts())


def test_require_device_restricts_cuda_to_the_formats_that_run():
    facts = FakeFacts(ort_providers=("CUDAExecutionProvider",), gpus=1, gpu_note="")
    assert require_device("cuda", facts=facts).formats == ("onnx",)


def test_auto_prefers_jetson_on_a_jetson_board():
    assert require_device("auto", facts=JETSON).name == "jetson"


def test_auto_skips_a_runnable_profile_the_bundle_has_no_artifacts_for(bundle_dir):
    manifest = Manifest.load(bundle_dir)  # ONNX only
    intel = FakeFacts(openvino="2025.1", openvino_devices=("CPU",))
    assert require_device("auto", facts=intel).name == "intel-cpu"
    assert require_device("auto", manifest, facts=intel).name == "cpu"


def test_auto_with_nothing_runnable_lists_the_reasons():
    with pytest.raises(DeviceUnavailable, match="cpu: missing: the 'onnxruntime'"):
        require_device("auto", facts=FakeFacts(onnxruntime=None))


def test_this_machine_runs_the_cpu_profile():
    statuses = {s.name: s for s in detect_devices()}
    assert statuses["cpu"].available
    assert set(statuses) == {"cpu", "intel-cpu", "jetson", "cuda"}


def test_devices_command_lists_every_profile_and_the_bundle_artifacts(bundle_dir):
    from echosr_edge.cli import main

    result = CliRunner().invoke(main, ["devices", "--bundle", str(bundle_dir)])
    assert result.exit_code == 0, result.output
    for name in ("cpu", "intel-cpu", "jetson", "cuda", "auto"):
        assert name in result.output
    assert "sr: onnx/int8" in result.output
