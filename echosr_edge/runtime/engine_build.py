"""TensorRT engines built where they run: from the bundle's ONNX, checked against FP32, then cached.

An engine only deserializes on the TensorRT version and GPU model that built it, so a Jetson
(or any NVIDIA GPU) builds its own engines from the ONNX files every bundle carries. Each built
engine runs the bundle's start-up check (the verification frames against the FP32 reference
outputs) before it is cached; one outside the bundle's budgets is not cached and the error names
the model and by how much it missed. Cached engines are found by their key (``engine_cache``),
so an engine of another TensorRT or GPU is never looked up; one whose key matches but that
TensorRT still refuses to deserialize (a driver update) is dropped and rebuilt.

INT8 engines come from the bundle's symmetric QDQ ONNX (explicit quantisation): the scales were
calibrated on real frames at export and verified there, every TensorRT version since 8 reads
them, and the device needs no calibration frames or calibrator. A TensorRT calibration cache
would tie INT8 to implicit quantisation, which TensorRT 10 deprecates and 11 removes.

Torch-free: the builder is TensorRT's own Python API, the GPU is named through libcuda.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from echosr_edge.bundle.integrity import verify_artifact
from echosr_edge.bundle.manifest import Artifact, Manifest, ModelEntry
from echosr_edge.devices.profiles import DeviceProfile, engine_source
from echosr_edge.errors import EchoSRError, import_optional
from echosr_edge.runtime.engine_cache import EngineCache, EngineKey, GpuIdentity, gpu_identity, make_key

log = logging.getLogger(__name__)

MAX_BATCH = 4  # the runtime feeds one frame at a time; a small batch range keeps the build short
DEFAULT_WORKSPACE_GB = 1.0


class EnginesMissing(EchoSRError):
    """No engine is cached for this device and building was not allowed (--no-build)."""


class EngineCheckFailed(EchoSRError):
    """An engine built here disagrees with the FP32 references beyond the bundle's budgets."""


@dataclass(frozen=True)
class BuildSettings:
    """How engines are built: precision, DLA core, builder workspace (GiB), the cache folder."""

    precision: str = "fp16"
    dla_core: int | None = None
    workspace_gb: float = DEFAULT_WORKSPACE_GB
    cache_dir: Path | None = None

    @property
    def workspace_bytes(self) -> int:
        return int(self.workspace_gb * (1 << 30))


@dataclass(frozen=True)
class EnginePlan:
    """One model's engine: the ONNX it comes from, its key, and the cached file when there is one."""

    model: str
    precision: str
    source: Artifact
    key: EngineKey
    cached: Path | None


@dataclass(frozen=True)
class BuildEvent:
    """Progress of a build, one per step of each model."""

    model: str
    index: int  # 1-based
    total: int
    stage: str  # "building", "checking", "cached", "failed"
    elapsed_s: float  # since this model's build started
    detail: str = ""


@dataclass(frozen=True)
class BuildReport:
    """What a build did: engines cached, the seconds it took, and each model's check line."""

    built: tuple[str, ...]
    seconds: float
    checks: tuple[str, ...]


def tensorrt_here() -> tuple[object, GpuIdentity]:
    """TensorRT's module and this machine's GPU; a one-line error naming what is missing."""
    trt = import_optional("tensorrt", "jetson")
    return trt, gpu_identity()


def _strongly_typed(trt) -> bool:
    return not hasattr(trt.BuilderFlag, "FP16")  # TensorRT 11 builds strongly typed networks only


def plan_engines(
    bundle_dir: Path, manifest: Manifest, settings: BuildSettings, trt=None, gpu: GpuIdentity | None = None
) -> list[EnginePlan]:
    """One plan per model of ``manifest``: the ONNX source, the key and whether it is cached."""
    if trt is None or gpu is None:
        trt, gpu = tensorrt_here()
    cache = EngineCache(settings.cache_dir)
    plans = []
    for entry in manifest.models:
        source = engine_source(entry, settings.precision, _strongly_typed(trt))
        key = make_key(source.sha256, settings.precision, trt.__version__, gpu, settings.dla_core, settings.workspace_bytes)
        plans.append(EnginePlan(entry.name, settings.precision, source, key, cache.lookup(key)))
    return plans


def build_engines(
    bundle_dir: Path,
    manifest: Manifest,
    plans: list[EnginePlan],
    settings: BuildSettings,
    on_progress: Callable[[BuildEvent], None] | None = None,
    trt=None,
) -> BuildReport:
    """Build, check and cache the engines of ``plans``; raise EngineCheckFailed naming every model that failed."""
    from echosr_edge.runtime.checks import check_model, verification_frames

    trt = trt or import_optional("tensorrt", "jetson")
    bundle_dir, cache = Path(bundle_dir), EngineCache(settings.cache_dir)
    say = on_progress or (lambda event: None)
    frames = verification_frames(bundle_dir, manifest)
    started, built, lines, failures = time.perf_counter(), [], [], []
    for index, plan in enumerate(plans, 1):
        t0 = time.perf_counter()
        entry = manifest.model(plan.model)
        say(BuildEvent(plan.model, index, len(plans), "building", 0.0, f"{plan.precision} from {plan.source.file}"))
        verify_artifact(bundle_dir, plan.source)  # the ONNX is read now, maybe long after the bundle was opened
        engine_bytes = serialize_engine(trt, bundle_dir / plan.source.file, entry, plan.precision, settings)
        build_s = time.perf_counter() - t0
        say(BuildEvent(plan.model, index, len(plans), "checking", build_s, "against the FP32 references"))
        check = _check_built(trt, engine_bytes, bundle_dir, manifest, entry, plan, settings, frames, check_model)
        if isinstance(check, str):
            detail, passed = f"not checked ({check})", True
        else:
            detail, passed = check.describe(), check.passed
        if not passed:
            failures.append(f"{plan.model} ({plan.precision}): {shortfall(check)}")
            say(BuildEvent(plan.model, index, len(plans), "failed", time.perf_counter() - t0, detail))
            continue
        cache.store(plan.key, engine_bytes, {"model": plan.model, "source": plan.source.file,
                                             "build_seconds": round(build_s, 2), "check": detail})
        built.append(plan.model)
        lines.append(detail)
        say(BuildEvent(plan.model, index, len(plans), "cached", time.perf_counter() - t0, detail))
    seconds = time.perf_counter() - started
    if built:
        cache.record_build(seconds, built, str(bundle_dir))
    if failures:
        raise EngineCheckFailed("engine(s) built here missed the bundle's FP32 budget and were not cached: " + "; ".join(failures))
    return BuildReport(tuple(built), seconds, tuple(lines))


def shortfall(check) -> str:
    """How far a failed check is from its budget, in the metric's unit."""
    if check.metric.startswith("psnr"):
        return f"PSNR vs FP32 {check.value:.2f} dB, {check.budget - check.value:.2f} dB under the {check.budget:g} dB budget"
    return (f"agreement with FP32 {check.value:.3f}, {check.budget - check.value:.3f} under the {check.budget:g} budget")


def _check_built(trt, engine_bytes, bundle_dir, manifest, entry, plan, settings, frames, check_model):
    """Run the start-up check on a freshly built engine (from a temporary file, before caching)."""
    from echosr_edge.runtime.engines.tensorrt import TensorRTEngine

    if frames is None:
        return "the bundle has no verification frames"
    with tempfile.TemporaryDirectory(prefix="echosr-engine-") as tmp:
        path = Path(tmp) / f"{plan.model}.engine"
        path.write_bytes(engine_bytes)
        engine = TensorRTEngine(path, dla_core=settings.dla_core)
        try:
            return check_model(bundle_dir, manifest, entry.name, engine, "tensorrt", plan.precision, frames, entry.scale or 4)
        finally:
            engine.close()


def _input_shapes(entry: ModelEntry, shape: tuple[int, ...]) -> tuple[tuple, tuple, tuple]:
    """min/opt/max shapes for an N×1×H×W input whose -1 dims are dynamic (batch, and maybe H and W)."""
    prep = entry.preprocessing
    size = int(prep["hr_size"]) // int(entry.scale or 4) if entry.role == "sr" else int(prep["input_size"])
    lo, opt, hi = list(shape), list(shape), list(shape)
    if shape[0] < 0:
        lo[0], opt[0], hi[0] = 1, 1, MAX_BATCH
    for axis in (2, 3):
        if shape[axis] < 0:
            lo[axis], opt[axis], hi[axis] = max(8, size // 2), size, size * 2
    return tuple(lo), tuple(opt), tuple(hi)


def serialize_engine(trt, onnx_path: Path, entry: ModelEntry, precision: str, settings: BuildSettings) -> bytes:
    """Build one serialized engine from ``onnx_path`` with TensorRT's builder (explicit batch, one profile)."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    major = int(str(trt.__version__).split(".")[0])
    # TensorRT 8 needs the explicit-batch flag for ONNX; 10 ignores it (always explicit), 11 removes it.
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH) if major < 10 else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EchoSRError(f"model {entry.name!r}: TensorRT {trt.__version__} cannot parse {Path(onnx_path).name} ({errors})")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_bytes)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        profile.set_shape(tensor.name, *_input_shapes(entry, tuple(tensor.shape)))
    config.add_optimization_profile(profile)
    if not _strongly_typed(trt):
        if precision in ("fp16", "int8"):
            config.set_flag(trt.BuilderFlag.FP16)  # float layers of a QDQ network may run in FP16 too
        if precision == "int8":
            config.set_flag(trt.BuilderFlag.INT8)  # TensorRT ≤ 10 needs it to honour Q/DQ nodes
    if settings.dla_core is not None:
        if precision == "fp32":
            raise EchoSRError("a DLA core runs FP16 or INT8 only: use --precision fp16 or int8 with --dla")
        if builder.num_DLA_cores <= settings.dla_core:
            raise EchoSRError(f"DLA core {settings.dla_core} was asked for; this device has {builder.num_DLA_cores}")
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = settings.dla_core
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)  # layers the DLA cannot run go to the GPU
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EchoSRError(f"model {entry.name!r}: TensorRT could not build a {precision} engine (see its log above)")
    return bytes(serialized)


def deserializes(trt, path: Path, dla_core: int | None = None) -> bool:
    """Whether TensorRT here accepts the engine at ``path`` (None back means another TensorRT or GPU built it)."""
    runtime = trt.Runtime(trt.Logger(trt.Logger.ERROR))
    if dla_core is not None:
        runtime.DLA_core = int(dla_core)
    try:
        return runtime.deserialize_cuda_engine(Path(path).read_bytes()) is not None
    except (RuntimeError, TypeError, OSError) as exc:  # some versions raise instead of returning None
        log.info("TensorRT refused %s: %s", path, exc)
        return False


def settings_for(device: DeviceProfile, precision: str | None, cache_dir: Path | None = None) -> BuildSettings:
    """Build settings from a device profile's TensorRT options (DLA core, workspace) and a precision."""
    from echosr_edge.devices.profiles import DEFAULT_ENGINE_PRECISION

    options = device.options_for("tensorrt")
    return BuildSettings(
        precision=precision or DEFAULT_ENGINE_PRECISION,
        dla_core=options.get("dla_core"),
        workspace_gb=float(options.get("workspace_gb") or DEFAULT_WORKSPACE_GB),
        cache_dir=cache_dir or options.get("engine_cache"),
    )


def ensure_engines(
    bundle_dir: Path,
    manifest: Manifest,
    settings: BuildSettings,
    allow_build: bool = True,
    build_command: str = "echosr-edge engines build",
    on_start: Callable[[list[EnginePlan], dict | None], None] | None = None,
    on_progress: Callable[[BuildEvent], None] | None = None,
) -> BuildReport | None:
    """Make sure every model has a cached engine that TensorRT here accepts; build what is missing.

    A cached engine TensorRT refuses to deserialize is removed and rebuilt. Without
    ``allow_build`` a missing engine raises EnginesMissing naming ``build_command``.
    ``on_start(missing, last_build)`` is told before a build starts. None when nothing was built.
    """
    trt, gpu = tensorrt_here()
    cache = EngineCache(settings.cache_dir)
    plans = plan_engines(bundle_dir, manifest, settings, trt, gpu)
    missing = []
    for plan in plans:
        if plan.cached is not None and not deserializes(trt, plan.cached, settings.dla_core):
            log.warning("%s: TensorRT %s refused the cached engine %s; rebuilding it", plan.model, trt.__version__, plan.cached)
            cache.remove(plan.key)
            plan = EnginePlan(plan.model, plan.precision, plan.source, plan.key, None)
        if plan.cached is None:
            for why in cache.stale_for(plan.key):
                log.info("%s: a cached engine was built for another setup (%s); it is not used", plan.model, why)
            missing.append(plan)
    if not missing:
        return None
    if not allow_build:
        names = ", ".join(p.model for p in missing)
        raise EnginesMissing(
            f"no {settings.precision} TensorRT engine for {names} on this device ({gpu.name}, TensorRT {trt.__version__}); "
            f"build them first: {build_command}"
        )
    if on_start:
        on_start(missing, cache.last_build())
    return build_engines(bundle_dir, manifest, missing, settings, on_progress, trt)


def open_cached_engine(bundle_dir: Path, entry: ModelEntry, artifact: Artifact, device: DeviceProfile):
    """The TensorRT engine this device built for ``entry`` at ``artifact.precision``, from the cache."""
    from echosr_edge.runtime.engines.tensorrt import TensorRTEngine

    settings = settings_for(device, artifact.precision)
    trt, gpu = tensorrt_here()
    source = engine_source(entry, artifact.precision, _strongly_typed(trt))
    key = make_key(source.sha256, artifact.precision, trt.__version__, gpu, settings.dla_core, settings.workspace_bytes)
    path = EngineCache(settings.cache_dir).lookup(key)
    if path is None:
        raise EnginesMissing(
            f"model {entry.name!r}: no {artifact.precision} TensorRT engine cached for this device: "
            f"echosr-edge engines build --bundle {bundle_dir} --device {device.name} --precision {artifact.precision}"
        )
    return TensorRTEngine(path, threads=device.threads, dla_core=settings.dla_core)


@dataclass(frozen=True)
class EnginePolicy:
    """What opening a bundle on jetson/cuda does about missing engines: build them (saying so through
    the callbacks) or refuse; ``cache_dir`` overrides the engine cache."""

    allow_build: bool = True
    cache_dir: Path | None = None
    on_start: Callable[[list[EnginePlan], dict | None], None] | None = None
    on_progress: Callable[[BuildEvent], None] | None = None


def prepare_device_engines(
    bundle_dir: Path, manifest: Manifest, device: DeviceProfile, precision: str | None, policy: EnginePolicy = EnginePolicy()
) -> BuildReport | None:
    """Build (or, without ``policy.allow_build``, refuse) the engines ``device`` would load from the cache.

    Nothing happens when ``device`` runs no TensorRT or the bundle carries its own engines.
    """
    from echosr_edge.devices.profiles import ON_DEVICE

    if "tensorrt" not in device.formats or not device.builds_engines:
        return None
    planned = []
    for entry in manifest.models:
        try:
            planned.append(bool(device.choose_artifact(entry, precision).build.get(ON_DEVICE)))
        except EchoSRError:  # load_pipeline reports an unrunnable model in its own words
            planned.append(False)
    if not any(planned):
        return None
    settings = settings_for(device, precision, policy.cache_dir)
    command = f"echosr-edge engines build --bundle {bundle_dir} --device {device.name} --precision {settings.precision}"
    if settings.dla_core is not None:
        command += f" --dla {settings.dla_core}"
    if settings.cache_dir is not None:
        command += f" --cache {settings.cache_dir}"
    return ensure_engines(bundle_dir, manifest, settings, policy.allow_build, command, policy.on_start, policy.on_progress)
