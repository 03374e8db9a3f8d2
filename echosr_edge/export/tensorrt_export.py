"""TensorRT engines (builder API): FP32 / FP16 / INT8, engine and timing caches, DLA, and a runner.

Engines are built for the GPU they are built on: build them on the target (a Jetson) or one of
the same compute capability. INT8 comes from the symmetric QDQ ONNX (explicit quantisation,
every TensorRT version) or, on TensorRT ≤ 10, from an IInt8 calibrator on the FP32 ONNX. TensorRT
11 builds strongly typed networks only: FP16 there parses the FP16 ONNX instead of a builder flag.

The engine cache keys an engine by the ONNX file's sha256, the build settings, the TensorRT
version and the GPU, so an unchanged model is not rebuilt; the timing cache is reused across
models and builds. Nothing here fakes an engine: without tensorrt and a GPU it raises.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from echosr_edge.bundle.integrity import sha256_file
from echosr_edge.errors import EchoSRError

log = logging.getLogger(__name__)
NEEDS = "the TensorRT stage needs the tensorrt package (pip install \"echosr-edge[jetson]\") and an NVIDIA GPU"


@dataclass(frozen=True)
class TensorRTSettings:
    """Builder settings: workspace (GiB), optimisation profile, DLA core, caches, INT8 route."""

    workspace_gb: float = 1.0
    min_shape: tuple[int, int, int, int] | None = None  # None: the ONNX input shape (static)
    opt_shape: tuple[int, int, int, int] | None = None
    max_shape: tuple[int, int, int, int] | None = None
    dla_core: int | None = None
    int8_source: str = "qdq"  # "qdq" (explicit, from the QDQ ONNX) or "calibrator" (TensorRT ≤ 10)
    cache_dir: Path | None = None  # engine cache, timing cache and calibration cache


def unavailable_reason() -> str | None:
    """Why TensorRT engines cannot be built here (None when they can)."""
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return f"{NEEDS}; tensorrt is not installed"
    try:
        import torch

        if not torch.cuda.is_available():
            return f"{NEEDS}; no CUDA GPU is visible"
    except ImportError:
        return f"{NEEDS}; torch (used for GPU buffers) is not installed"
    return None


def _require():
    reason = unavailable_reason()
    if reason:
        raise EchoSRError(reason)
    import tensorrt as trt
    import torch

    return trt, torch


def _weakly_typed(trt) -> bool:
    return hasattr(trt.BuilderFlag, "FP16")


def build_engine(
    onnx_path: Path,
    engine_path: Path,
    precision: str,
    settings: TensorRTSettings = TensorRTSettings(),
    calibrator=None,
    float_layers: tuple[str, ...] = (),
) -> dict:
    """Build a serialized engine from ``onnx_path``; returns its build info (versions, GPU, cache hit).

    ``onnx_path`` is the FP32 ONNX (fp32; fp16 on TensorRT ≤ 10; int8 with a calibrator), the FP16
    ONNX (fp16 on TensorRT 11) or the symmetric QDQ ONNX (int8 'qdq'). ``float_layers`` are held in
    FP32 when a calibrator quantises implicitly.
    """
    trt, torch = _require()
    engine_path = Path(engine_path)
    gpu = torch.cuda.get_device_name(0)
    capability = ".".join(map(str, torch.cuda.get_device_capability(0)))
    key_doc = {"onnx": sha256_file(onnx_path), "precision": precision, "trt": trt.__version__, "gpu": gpu, "sm": capability,
               "settings": {k: v for k, v in asdict(settings).items() if k != "cache_dir"}}
    key = hashlib.sha256(json.dumps(key_doc, sort_keys=True, default=str).encode()).hexdigest()[:24]
    info = {"tensorrt": trt.__version__, "gpu": gpu, "compute_capability": capability, "engine_key": key,
            "workspace_gb": settings.workspace_gb, "dla_core": settings.dla_core}
    cache_dir = Path(settings.cache_dir) if settings.cache_dir else None
    cached = cache_dir / "engines" / f"{key}.engine" if cache_dir else None
    if cached and cached.is_file():
        engine_path.parent.mkdir(parents=True, exist_ok=True)
        engine_path.write_bytes(cached.read_bytes())
        return {**info, "engine_cache": "hit"}

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    explicit = getattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH", None)  # needed by TensorRT 8
    network = builder.create_network(1 << int(explicit) if explicit is not None else 0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EchoSRError(f"{onnx_path}: TensorRT cannot parse it ({errors})")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(settings.workspace_gb * (1 << 30)))
    profile = _profile(builder, network, settings)
    config.add_optimization_profile(profile)
    weak = _weakly_typed(trt)
    if precision in ("fp16", "int8") and weak:
        config.set_flag(trt.BuilderFlag.FP16)
    if precision == "int8" and weak:
        config.set_flag(trt.BuilderFlag.INT8)  # TensorRT ≤ 10 needs it for QDQ networks too
    if calibrator is not None:
        if not weak:
            raise EchoSRError(f"TensorRT {trt.__version__} has no implicit INT8 calibration; use --trt-int8 qdq")
        config.int8_calibrator = calibrator
        if hasattr(config, "set_calibration_profile"):
            config.set_calibration_profile(profile)
        _hold_in_float(trt, network, config, float_layers)
    if settings.dla_core is not None:
        _use_dla(trt, builder, config, settings.dla_core, precision)
    timing_file = cache_dir / "timing.cache" if cache_dir else None
    timing = config.create_timing_cache(timing_file.read_bytes() if timing_file and timing_file.is_file() else b"")
    config.set_timing_cache(timing, False)
    started = time.perf_counter()
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EchoSRError(f"TensorRT could not build a {precision} engine from {onnx_path} (see the TensorRT log above)")
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    engine_path.write_bytes(bytes(serialized))
    if cache_dir:
        (cache_dir / "engines").mkdir(parents=True, exist_ok=True)
        cached.write_bytes(bytes(serialized))
        timing_file.write_bytes(bytes(config.get_timing_cache().serialize()))
    log.info("built %s in %.1f s", engine_path, time.perf_counter() - started)
    return {**info, "engine_cache": "miss", "build_seconds": round(time.perf_counter() - started, 2)}


def _profile(builder, network, settings: TensorRTSettings):
    """One optimisation profile; dynamic axes take min/opt/max from the settings."""
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        shape = tuple(tensor.shape)
        if any(d < 0 for d in shape):
            if not (settings.min_shape and settings.opt_shape and settings.max_shape):
                raise EchoSRError(f"input {tensor.name} has dynamic shape {shape}: TensorRT needs min/opt/max shapes")
            profile.set_shape(tensor.name, settings.min_shape, settings.opt_shape, settings.max_shape)
        else:
            profile.set_shape(tensor.name, shape, shape, shape)
    return profile


def _hold_in_float(trt, network, config, float_layers: tuple[str, ...]) -> None:
    """Pin layers whose name starts with an ONNX node name in ``float_layers`` to FP32."""
    if not float_layers:
        return
    held = 0
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if any(layer.name.startswith(name) for name in float_layers):
            layer.precision = trt.float32
            held += 1
    config.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)
    if held == 0:
        log.warning("none of %s was found among the TensorRT layers; nothing was held in FP32", float_layers)


def _use_dla(trt, builder, config, core: int, precision: str) -> None:
    if precision == "fp32":
        raise EchoSRError("DLA runs FP16 or INT8 only; ask for --precision fp16 or int8 with --dla")
    if builder.num_DLA_cores <= core:
        raise EchoSRError(f"DLA core {core} requested, this device has {builder.num_DLA_cores}")
    config.default_device_type = trt.DeviceType.DLA
    config.DLA_core = core
    config.set_flag(trt.BuilderFlag.GPU_FALLBACK)


def run_engine(engine_path: Path, inputs: np.ndarray) -> tuple[np.ndarray, float]:
    """Run an engine on the GPU over N×1×H×W float32 inputs one frame at a time; (outputs, median ms)."""
    trt, torch = _require()
    logger = trt.Logger(trt.Logger.WARNING)
    engine = trt.Runtime(logger).deserialize_cuda_engine(Path(engine_path).read_bytes())
    if engine is None:
        raise EchoSRError(f"{engine_path}: TensorRT cannot load this engine (built for another GPU or version?)")
    context = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    in_name = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
    out_name = next(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT)
    in_dtype = torch.from_numpy(np.zeros(1, dtype=trt.nptype(engine.get_tensor_dtype(in_name)))).dtype
    out_dtype = torch.from_numpy(np.zeros(1, dtype=trt.nptype(engine.get_tensor_dtype(out_name)))).dtype
    stream = torch.cuda.current_stream()  # the copies and the engine run in one stream, in order

    def infer(x: np.ndarray) -> np.ndarray:
        device_in = torch.from_numpy(x).to("cuda", dtype=in_dtype).contiguous()
        context.set_input_shape(in_name, tuple(device_in.shape))
        device_out = torch.empty(tuple(context.get_tensor_shape(out_name)), dtype=out_dtype, device="cuda")
        context.set_tensor_address(in_name, device_in.data_ptr())
        context.set_tensor_address(out_name, device_out.data_ptr())
        if not context.execute_async_v3(stream.cuda_stream):
            raise EchoSRError(f"{engine_path}: TensorRT execution failed")
        stream.synchronize()
        return device_out.float().cpu().numpy()

    infer(inputs[:1])  # warm-up
    outs, times = [], []
    for x in inputs:
        start = time.perf_counter()
        outs.append(infer(x[None]))
        times.append((time.perf_counter() - start) * 1000.0)
    return np.concatenate(outs), float(np.median(times))
