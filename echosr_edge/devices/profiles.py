"""Device profiles: which artifact formats and precisions each kind of device runs, best first.

A profile is a recipe, not a probe: ``devices.detect`` says whether this machine can run it.
The profile picks a bundle's artifacts: for each model, the first (format, precision) pair of
``candidates()`` that the bundle holds.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, replace

from echosr_edge.bundle.manifest import Artifact, ModelEntry
from echosr_edge.errors import BundleError, EchoSRError


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
        "NVIDIA Jetson through TensorRT (GPU, or a DLA core with --dla)",
        engine_options={"tensorrt": {"dla_core": None}},
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
    ),
}

# "auto" is resolved by devices.detect.resolve_device: the first runnable profile the bundle fits.
DEVICE_NAMES: tuple[str, ...] = (*PROFILES, "auto")


def get_profile(name: str) -> DeviceProfile:
    """The profile called ``name`` (threads default to the core count); an unknown name lists the known ones."""
    if name not in PROFILES:
        close = difflib.get_close_matches(name, DEVICE_NAMES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise EchoSRError(f"unknown device {name!r}; known: {', '.join(DEVICE_NAMES)}.{hint}")
    profile = PROFILES[name]
    return profile if profile.threads else replace(profile, threads=os.cpu_count())
