"""Which device profiles this machine can run, and why not the others.

Facts are probed lazily (an explicit ``--device cpu`` never imports OpenVINO or TensorRT) and
the verdict is a pure function of them, so it can be tested with made-up machines.
"""

from __future__ import annotations

import ctypes
import importlib
import platform
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.devices.choice import arm_core_class, cpu_backend_order, is_arm64
from echosr_edge.devices.profiles import PROFILES, DeviceProfile, get_profile
from echosr_edge.errors import EchoSRError

# GPUs first; the CPU profiles' order comes from devices.choice (what is installed, the CPU's features).
AUTO_ORDER: tuple[str, ...] = ("jetson", "cuda", "intel-cpu", "cpu")


class DeviceUnavailable(EchoSRError):
    """The asked-for device cannot run on this machine (a package or the hardware is missing)."""


class Facts(Protocol):
    """What the verdicts need to know about the machine."""

    onnxruntime: str | None  # version, or None when the package is missing
    ort_providers: tuple[str, ...]
    openvino: str | None
    openvino_devices: tuple[str, ...]
    tensorrt: str | None
    cuda_binding: str | None  # "cuda-python" or "pycuda", for the TensorRT adapter's buffers
    gpus: int
    gpu_note: str  # why there are no GPUs, when there are none
    jetson_model: str | None
    cpu_vendor: str
    cpu_model: str
    cpu_arch: str  # platform.machine(): x86_64, aarch64, ...
    cpu_flags: frozenset[str]  # /proc/cpuinfo flags (x86) or Features (ARM)
    board_model: str | None  # /proc/device-tree/model on ARM boards (Raspberry Pi 5, Orange Pi, ...)


def _version(module: str) -> str | None:
    try:
        mod = importlib.import_module(module)
    except Exception:  # a broken install is as good as a missing one here
        return None
    return str(getattr(mod, "__version__", "installed"))


def cuda_device_count() -> tuple[int, str]:
    """NVIDIA GPUs visible through the driver API (libcuda), and why none when none."""
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if lib.cuInit(0) != 0:
            return 0, "the NVIDIA driver is present but found no usable GPU (cuInit failed)"
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value == 0:
            return 0, "the NVIDIA driver reports no GPU"
        return count.value, ""
    return 0, "no NVIDIA GPU driver (libcuda) on this machine"


class MachineFacts:
    """The facts of this machine, each probed on first use."""

    @cached_property
    def onnxruntime(self) -> str | None:
        return _version("onnxruntime")

    @cached_property
    def ort_providers(self) -> tuple[str, ...]:
        if not self.onnxruntime:
            return ()
        import onnxruntime

        return tuple(onnxruntime.get_available_providers())

    @cached_property
    def openvino(self) -> str | None:
        return _version("openvino")

    @cached_property
    def openvino_devices(self) -> tuple[str, ...]:
        if not self.openvino:
            return ()
        # Only the CPU plugin, the one the runtime uses: `available_devices` loads every plugin (GPU,
        # NPU) and cost 0.15 s of each start. The Core is the runtime's shared one.
        from echosr_edge.runtime.engines.openvino import shared_core

        try:
            shared_core().get_property("CPU", "FULL_DEVICE_NAME")
        except Exception:  # the CPU plugin fails to load: no device
            return ()
        return ("CPU",)

    @cached_property
    def tensorrt(self) -> str | None:
        return _version("tensorrt")

    @cached_property
    def cuda_binding(self) -> str | None:
        for module, name in (("cuda.bindings.runtime", "cuda-python"), ("cuda.cudart", "cuda-python"), ("pycuda.driver", "pycuda")):
            if _version(module) is not None:
                return name
        return None

    @cached_property
    def _gpu(self) -> tuple[int, str]:
        return cuda_device_count()

    @property
    def gpus(self) -> int:
        return self._gpu[0]

    @property
    def gpu_note(self) -> str:
        return self._gpu[1]

    @cached_property
    def jetson_model(self) -> str | None:
        model = Path("/proc/device-tree/model")
        try:
            text = model.read_text(errors="replace").strip("\x00\n ")
        except OSError:
            text = ""
        if "jetson" in text.lower():
            return text
        return "Jetson (L4T)" if Path("/etc/nv_tegra_release").exists() else None

    @cached_property
    def board_model(self) -> str | None:
        try:
            text = Path("/proc/device-tree/model").read_text(errors="replace").strip("\x00\n ")
        except OSError:
            return None
        return text or None

    @property
    def cpu_arch(self) -> str:
        return platform.machine().lower()

    @cached_property
    def cpu_flags(self) -> frozenset[str]:
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                key, _, value = line.partition(":")
                if key.strip() in ("flags", "Features"):
                    return frozenset(value.split())
        except OSError:
            pass
        return frozenset()

    @cached_property
    def _cpu(self) -> tuple[str, str]:
        vendor, model = "", platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "vendor_id" and not vendor:
                    vendor = value.strip()
                elif key.strip() == "model name":
                    model = value.strip()
                    break
        except OSError:
            pass
        return vendor, model

    @property
    def cpu_vendor(self) -> str:
        return self._cpu[0]

    @property
    def cpu_model(self) -> str:
        return self._cpu[1]


@dataclass(frozen=True)
class DeviceStatus:
    """Whether a profile runs here: the formats it can use, or why it cannot."""

    name: str
    available: bool
    formats: tuple[str, ...]
    reason: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _missing(package: str, extra: str, alternative: str = "") -> str:
    return f"the '{package}' package (pip install \"echosr-edge[{extra}]\"{alternative})"


def _tensorrt_needs(facts: Facts) -> list[str]:
    needs = []
    if not facts.tensorrt:
        needs.append(_missing("tensorrt", "jetson", ", or JetPack on a Jetson"))
    elif not facts.cuda_binding:
        needs.append(_missing("cuda-python", "jetson") + " for TensorRT's GPU buffers")
    if facts.gpus == 0:
        needs.append(f"an NVIDIA GPU ({facts.gpu_note})")
    return needs


def assess(name: str, facts: Facts) -> DeviceStatus:
    """Whether profile ``name`` runs on the machine ``facts`` describes."""
    profile = PROFILES[name]
    notes: list[str] = []
    if name == "cpu":
        if not facts.onnxruntime:
            return DeviceStatus(name, False, (), "missing: the 'onnxruntime' package (pip install onnxruntime)")
        notes.append(f"ONNX Runtime {facts.onnxruntime} on {facts.cpu_model}")
        if is_arm64(facts):
            notes.append(f"ARM64 board: {getattr(facts, 'board_model', None) or 'unknown model'}; "
                         f"core class {arm_core_class(facts)} (docs/packaging.md projects its speed)")
        return DeviceStatus(name, True, ("onnx",), notes=tuple(notes))
    if name == "intel-cpu":
        if not facts.openvino:
            return DeviceStatus(name, False, (), "missing: " + _missing("openvino", "openvino"))
        if "CPU" not in facts.openvino_devices:
            return DeviceStatus(name, False, (), "OpenVINO is installed but its CPU plugin found no usable CPU")
        notes.append(f"OpenVINO {facts.openvino.split('-')[0]} on {facts.cpu_model}")
        if facts.cpu_vendor and facts.cpu_vendor != "GenuineIntel":
            notes.append(f"not an Intel CPU ({facts.cpu_vendor}): OpenVINO's x86 kernels run on it all the same")
        return DeviceStatus(name, True, ("openvino",), notes=tuple(notes))
    if name == "jetson":
        needs = _tensorrt_needs(facts)
        if needs:
            return DeviceStatus(name, False, (), "missing: " + "; ".join(needs))
        notes.append(f"TensorRT {facts.tensorrt} with {facts.cuda_binding}")
        notes.append(facts.jetson_model or "not a Jetson board: TensorRT engines built for this GPU still run")
        return DeviceStatus(name, True, ("tensorrt",), notes=tuple(notes))
    if name == "cuda":
        formats: list[str] = []
        trt_needs = _tensorrt_needs(facts)
        if not trt_needs:
            formats.append("tensorrt")
            notes.append(f"TensorRT {facts.tensorrt}")
        ort_cuda = "CUDAExecutionProvider" in facts.ort_providers and facts.gpus > 0
        if ort_cuda:
            formats.append("onnx")
            notes.append("ONNX Runtime CUDA provider")
        if not formats:
            why = []
            if facts.gpus == 0:
                why.append(f"an NVIDIA GPU ({facts.gpu_note})")
            else:
                why.append("TensorRT (" + "; ".join(trt_needs) + ")")
                why.append("or ONNX Runtime's CUDA provider (pip install onnxruntime-gpu)")
            return DeviceStatus(name, False, (), "missing: " + " ".join(why))
        return DeviceStatus(name, True, tuple(f for f in profile.formats if f in formats), notes=tuple(notes))
    raise EchoSRError(f"no assessment for device {name!r}")


def detect_devices(facts: Facts | None = None) -> list[DeviceStatus]:
    """Every profile's status on this machine (or on ``facts``)."""
    facts = facts or MachineFacts()
    return [assess(name, facts) for name in PROFILES]


def bundle_fits(profile: DeviceProfile, manifest: Manifest, precision: str | None = None) -> bool:
    """Whether every model of the bundle has an artifact ``profile`` runs (or builds, for TensorRT)."""
    for entry in manifest.models:
        try:
            profile.choose_artifact(entry, precision)
        except EchoSRError:
            return False
    return True


@dataclass(frozen=True)
class DeviceChoice:
    """The profile a device name resolved to, and why (said at start by run and batch)."""

    profile: DeviceProfile
    reason: str


def choose_device(
    name: str, manifest: Manifest | None = None, precision: str | None = None, facts: Facts | None = None
) -> DeviceChoice:
    """The profile ``name`` restricted to what runs here, with the reason; ``auto`` picks the fastest that fits.

    ``auto`` tries a Jetson's TensorRT, then an NVIDIA GPU, then the CPU backends in the order
    ``devices.choice.cpu_backend_order`` gives (OpenVINO first on x86 wherever it is installed).
    Raises DeviceUnavailable naming what is missing (a package, a GPU) when nothing can run.
    """
    facts = facts or MachineFacts()
    if name != "auto":
        profile = get_profile(name)
        status = assess(name, facts)
        if not status.available:
            raise DeviceUnavailable(f"device {name!r} cannot run on this machine: {status.reason}")
        return DeviceChoice(profile.with_formats(status.formats), f"asked for with --device {name}")
    cpu_order, cpu_reason = cpu_backend_order(facts)
    order = [n for n in AUTO_ORDER if n not in ("intel-cpu", "cpu")] + list(cpu_order)
    reasons: list[str] = []
    for candidate in order:
        if candidate == "jetson" and not facts.jetson_model:
            continue
        status = assess(candidate, facts)
        if not status.available:
            reasons.append(f"{candidate}: {status.reason}")
            continue
        profile = get_profile(candidate).with_formats(status.formats)
        if manifest is None or bundle_fits(profile, manifest, precision):
            why = cpu_reason if candidate in cpu_order else "; ".join(status.notes)
            skipped = [r for r in reasons if not r.startswith(("jetson", "cuda"))]
            return DeviceChoice(profile, "auto: " + why + ("" if not skipped else " (" + "; ".join(skipped) + ")"))
        reasons.append(f"{candidate}: the bundle has no {'/'.join(profile.formats)} artifacts for every model")
    raise DeviceUnavailable("no device profile can run this bundle here (" + "; ".join(reasons) + ")")


def require_device(
    name: str, manifest: Manifest | None = None, precision: str | None = None, facts: Facts | None = None
) -> DeviceProfile:
    """The profile ``name`` restricted to what runs here; ``auto`` picks the fastest that fits the bundle."""
    return choose_device(name, manifest, precision, facts).profile
