"""Device profiles: which artifact formats and precisions each kind of device runs, best first.

A profile is a recipe, not a probe: ``devices.detect`` says whether this machine can run it.
The profile picks a bundle's artifacts: for each model, the first (format, precision) pair of
``candidates()`` that the bundle holds. A profile that ``builds_engines`` (jetson, cuda) also
runs a bundle with only ONNX files: with no TensorRT engine in the bundle, it plans one that the
device builds from the ONNX into its engine cache (``runtime.engine_build``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from echosr_edge.bundle.manifest import Artifact, ModelEntry
from echosr_edge.errors import BundleError, ConfigError, EchoSRError, did_you_mean


@dataclass(frozen=True)
class DeviceProfile:
    """A kind of device: the artifact formats it loads (best first), its precisions, engine options.

    ``engine_options`` maps an artifact format to the keyword arguments its adapter receives
    (ONNX Runtime providers, the OpenVINO device and hints, the TensorRT DLA core).
    """

    name: str
    formats: tuple[str, ...]
    precisions: tuple[str, ...]
    description: str
    threads: int | None = None
    engine_options: dict[str, dict] = field(default_factory=dict, compare=False)
    builds_engines: bool = False  # TensorRT engines are built on the device from the bundle's ONNX

    @property
    def format(self) -> str:
        """The preferred artifact format."""
        return self.formats[0]

    def candidates(self) -> list[tuple[str, str]]:
        """(format, precision) pairs in the order this profile prefers them."""
        return [(f, p) for f in self.formats for p in self.precisions]

    def options_for(self, format: str) -> dict:
        """Adapter keyword arguments for ``format`` (a copy)."""
        return dict(self.engine_options.get(format, {}))

    def with_formats(self, formats: tuple[str, ...]) -> "DeviceProfile":
        """This profile restricted to ``formats`` (those this machine can run), order kept."""
        kept = tuple(f for f in self.formats if f in formats)
        if not kept:
            raise EchoSRError(f"device {self.name!r} has none of the formats {', '.join(formats)}")
        return replace(self, formats=kept)

    def with_options(self, format: str, **options) -> "DeviceProfile":
        """This profile with extra adapter options for ``format`` (e.g. ``dla_core=0``)."""
        merged = {k: dict(v) for k, v in self.engine_options.items()}
        merged.setdefault(format, {}).update(options)
        return replace(self, engine_options=merged)

    def choose_artifact(self, entry: ModelEntry, precision: str | None = None) -> Artifact:
        """The artifact of ``entry`` this profile runs (only ``precision`` when given).

        Without ``precision``, an artifact that missed its export budget (one kept with
        ``--allow-degraded``) is passed over for the next candidate that met it; the first
        candidate is used only when none met it. A given ``precision`` is always honoured.
        """
        wanted_pairs = [(f, p) for f, p in self.candidates() if precision in (None, p)]
        found = [a for f, p in wanted_pairs if (a := entry.artifact(f, p)) is not None]
        if self.builds_engines and "tensorrt" in self.formats and not any(a.format == "tensorrt" for a in found):
            try:
                return planned_engine(entry, precision or DEFAULT_ENGINE_PRECISION)
            except BundleError:
                if not found:
                    raise
        if not found:
            have = ", ".join(f"{a.format}/{a.precision}" for a in entry.artifacts) or "none"
            wanted = "/".join((precision,) if precision else self.precisions)
            raise BundleError(
                f"model {entry.name!r} has no {' or '.join(self.formats)} artifact at {wanted} "
                f"for device {self.name!r} (the bundle has: {have})"
            )
        if precision is None:
            return next((a for a in found if met_budget(a)), found[0])
        return found[0]

    def passed_over(self, entry: ModelEntry, chosen: Artifact) -> list[Artifact]:
        """The artifacts this profile prefers to ``chosen`` that it skipped for missing their export budget."""
        preferred = [a for f, p in self.candidates() if (a := entry.artifact(f, p))]
        before = preferred[: preferred.index(chosen)] if chosen in preferred else []
        return [a for a in before if not met_budget(a)]


DEFAULT_ENGINE_PRECISION = "fp16"  # on-device engines: FP16 unless --precision asks for int8 or fp32
ON_DEVICE = "on_device"  # Artifact.build key of an engine the device builds from the bundle's ONNX


def engine_source(entry: ModelEntry, precision: str, strongly_typed: bool = False) -> Artifact:
    """The ONNX artifact a TensorRT engine at ``precision`` is built from.

    FP32 and FP16 come from the FP32 ONNX (FP16 by a builder flag; a strongly typed TensorRT
    takes the FP16 ONNX instead). INT8 comes from the INT8 ONNX only when its Q/DQ pairs are
    symmetric int8 (TensorRT's explicit quantisation has no zero points): the CPU-tuned uint8
    one is refused, naming the export option that writes the right one.
    """
    if precision == "int8":
        art = entry.artifact("onnx", "int8")
        if art is None:
            raise BundleError(f"model {entry.name!r}: no INT8 ONNX in the bundle to build an INT8 engine from")
        if art.build.get("activations") != "int8 symmetric":
            raise BundleError(
                f"model {entry.name!r}: the bundle's INT8 ONNX has {art.build.get('activations', 'unknown')} activations; "
                "TensorRT needs symmetric int8 Q/DQ (export with --onnx-int8 symmetric), or use --precision fp16"
            )
        return art
    wanted = "fp16" if precision == "fp16" and strongly_typed else "fp32"
    art = entry.artifact("onnx", wanted)
    if art is None:
        raise BundleError(f"model {entry.name!r}: no {wanted.upper()} ONNX in the bundle to build a {precision} engine from")
    return art


def planned_engine(entry: ModelEntry, precision: str) -> Artifact:
    """The TensorRT artifact this device builds from ``entry``'s ONNX (file and sha256 are the ONNX's)."""
    source = engine_source(entry, precision)
    return replace(
        source, format="tensorrt", precision=precision, verification={}, float_layers=(),
        build={ON_DEVICE: True, "source": f"{source.format}/{source.precision}"},
    )


def met_budget(artifact: Artifact) -> bool:
    """Whether the exporter's verification of ``artifact`` met its budget (True when it was not verified)."""
    check = artifact.verification if isinstance(artifact.verification, dict) else {}
    return bool(check.get("passed", True))


PROFILES: dict[str, DeviceProfile] = {
    "cpu": DeviceProfile(
        "cpu",
        ("onnx",),
        ("int8", "fp32"),
        "any CPU through ONNX Runtime",
        engine_options={"onnx": {"providers": ["CPUExecutionProvider"]}},
    ),
    "intel-cpu": DeviceProfile(
        "intel-cpu",
        ("openvino",),
        ("int8", "fp16", "fp32"),
        "x86 CPU (Intel or AMD) through OpenVINO",
        # f32 inference keeps FP32 artifacts at FP32 on CPUs that would otherwise pick bf16.
        engine_options={
            "openvino": {"device": "CPU", "performance_hint": "LATENCY", "inference_precision": "f32"}
        },
    ),
    "jetson": DeviceProfile(
        "jetson",
        ("tensorrt",),
        ("int8", "fp16", "fp32"),
        "NVIDIA Jetson through TensorRT (GPU, or a DLA core with --dla); engines built on the device",
        engine_options={"tensorrt": {"dla_core": None}},
        builds_engines=True,
    ),
    "cuda": DeviceProfile(
        "cuda",
        ("tensorrt", "onnx"),
        ("int8", "fp16", "fp32"),
        "NVIDIA GPU through TensorRT, or ONNX Runtime's CUDA provider",
        engine_options={
            "tensorrt": {"dla_core": None},
            "onnx": {"providers": ["CUDAExecutionProvider", "CPUExecutionProvider"]},
        },
        builds_engines=True,
    ),
}

# "auto" is resolved by devices.detect.resolve_device: the first runnable profile the bundle fits.
DEVICE_NAMES: tuple[str, ...] = (*PROFILES, "auto")


def get_profile(name: str) -> DeviceProfile:
    """The profile called ``name`` (threads default to the core count); an unknown name lists the known ones."""
    if name not in PROFILES:
        hint = did_you_mean(name, DEVICE_NAMES)
        raise ConfigError(f"unknown device {name!r}; known: {', '.join(DEVICE_NAMES)}.{hint}")
    profile = PROFILES[name]
    return profile if profile.threads else replace(profile, threads=os.cpu_count())
