"""Build one artifact for one target × precision from the exported FP32 ONNX.

Each builder writes into a work folder and returns a :class:`Built` (the files, the layers
left in float, how it was built) or raises :class:`Unavailable` when the target cannot be
built on this machine (no tensorrt, no GPU, no openvino): the export goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from echosr_edge.bundle.vocabulary import FORMATS
from echosr_edge.errors import ConfigError
from echosr_edge.export.graph import onnx_float_convs
from echosr_edge.export.models import ExportModel

TARGETS: tuple[str, ...] = FORMATS  # --targets names artifact formats


class Unavailable(Exception):
    """A target that cannot be built here; the message says what it needs."""


@dataclass(frozen=True)
class Built:
    """An artifact in the work folder, before verification."""

    file: Path
    companions: tuple[Path, ...] = ()
    float_layers: tuple[str, ...] = ()
    build: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BuildContext:
    """What every builder of one model needs."""

    model: ExportModel
    fp32_onnx: Path
    work: Path
    calibration: np.ndarray | None  # N×1×h×w model inputs, or None (no INT8)
    method: str
    float_rule: str  # which convolutions INT8 keeps in float: 'sensitive', 'first-last' or 'none'
    spatial: tuple[int, int] | None  # None when H and W are dynamic
    metadata: dict
    accuracy_control: object | None = None  # openvino_export.AccuracyControl
    tensorrt: object | None = None  # tensorrt_export.TensorRTSettings
    symmetric_int8: bool = False  # the INT8 ONNX with symmetric int8 Q/DQ (what TensorRT builds from)
    rewrites: tuple[str, ...] = ()  # exact graph rewrites made to ``fp32_onnx`` (export.deploy_graph)

    def path(self, precision: str, suffix: str, tag: str = "") -> Path:
        return self.work / f"{self.model.name}.{precision}{tag}{suffix}"


def build(target: str, precision: str, ctx: BuildContext) -> Built:
    """Build ``target`` at ``precision`` (see the module docstring)."""
    return {"onnx": _onnx, "openvino": _openvino, "tensorrt": _tensorrt}[target](precision, ctx)


def _float_layers(ctx: BuildContext) -> list[str]:
    return onnx_float_convs(ctx.fp32_onnx, ctx.float_rule)


def _calibration(ctx: BuildContext) -> np.ndarray:
    if ctx.calibration is None:
        raise ConfigError("INT8 needs calibration frames (--calibration)")
    return ctx.calibration


def _onnx(precision: str, ctx: BuildContext, symmetric: bool | None = None) -> Built:
    from echosr_edge.export.onnx_fp16 import convert_fp16
    from echosr_edge.export.quantize_ort import quantize_int8_qdq

    if precision == "fp32":
        info = {"source": "torch.onnx (TorchScript exporter)"}
        if ctx.rewrites:
            info["rewrites"] = list(ctx.rewrites)
        return Built(ctx.fp32_onnx, build=info)
    if precision == "fp16":
        path = ctx.path("fp16", ".onnx")
        if not path.exists():
            convert_fp16(ctx.fp32_onnx, path)
        return Built(path, build={"source": "onnxruntime float16 conversion", "io": "float32"})
    symmetric = ctx.symmetric_int8 if symmetric is None else symmetric
    tag = ".sym" if symmetric else ""
    path = ctx.path("int8", ".onnx", tag)
    floats = _float_layers(ctx)
    quantize_int8_qdq(
        ctx.fp32_onnx, path, _calibration(ctx), method=ctx.method, nodes_to_exclude=floats, symmetric=symmetric, spatial=ctx.spatial
    )
    info = {
        "source": "onnxruntime quantize_static",
        "format": "QDQ",
        "weights": "int8 per-channel" if symmetric else "int8 per-channel, 7-bit range (reduce_range)",
        "activations": "int8 symmetric" if symmetric else "uint8 asymmetric",
        "calibration_method": ctx.method,
        "calibration_frames": len(ctx.calibration),
    }
    return Built(path, float_layers=tuple(floats), build=info)


def _openvino(precision: str, ctx: BuildContext) -> Built:
    try:
        import openvino  # noqa: F401
    except ImportError as exc:
        raise Unavailable('the OpenVINO stage needs openvino (pip install "echosr-edge[openvino]")') from exc
    from echosr_edge.export.openvino_export import onnx_to_ir, quantize_ir

    version = openvino.get_version()
    if precision in ("fp32", "fp16"):
        xml, bin_ = onnx_to_ir(ctx.fp32_onnx, ctx.path(precision, ".xml"), precision, ctx.metadata)
        return Built(xml, (bin_,), build={"source": "openvino.convert_model", "openvino": version})
    try:
        import nncf
    except ImportError as exc:
        raise Unavailable('OpenVINO INT8 needs nncf (pip install "echosr-edge[export]")') from exc
    (xml, bin_), floats = quantize_ir(
        ctx.fp32_onnx,
        ctx.path("int8", ".xml"),
        _calibration(ctx),
        ctx.method,
        ctx.float_rule,
        ctx.accuracy_control,
        ctx.metadata,
        ctx.spatial,
    )
    info = {
        "source": "nncf.quantize_with_accuracy_control" if ctx.accuracy_control else "nncf.quantize",
        "nncf": nncf.__version__,
        "openvino": version,
        "preset": "mixed",
        "calibration_method": ctx.method,
        "calibration_frames": len(ctx.calibration),
    }
    if ctx.accuracy_control:
        info["max_drop"] = ctx.accuracy_control.max_drop
    return Built(xml, (bin_,), tuple(floats), info)


def _tensorrt(precision: str, ctx: BuildContext) -> Built:
    from echosr_edge.export import tensorrt_export as trtx

    reason = trtx.unavailable_reason()
    if reason:
        raise Unavailable(reason)
    import tensorrt as trt

    settings = ctx.tensorrt or trtx.TensorRTSettings()
    if settings.cache_dir is None:
        settings = replace(settings, cache_dir=ctx.work / "tensorrt-cache")
    engine = ctx.path(precision, ".engine")
    weak = trtx._weakly_typed(trt)
    floats: list[str] = []
    calibrator = None
    if precision == "fp32" or (precision == "fp16" and weak):
        source = ctx.fp32_onnx
    elif precision == "fp16":
        source = _onnx("fp16", ctx).file  # strongly typed TensorRT: the precision is in the graph
    elif settings.int8_source == "qdq":
        qdq = _onnx("int8", ctx, symmetric=True)
        source, floats = qdq.file, list(qdq.float_layers)
    else:
        from echosr_edge.calibration.tensorrt_calibrator import make_tensorrt_calibrator

        source, floats = ctx.fp32_onnx, _float_layers(ctx)
        cache = Path(settings.cache_dir) / f"{ctx.model.name}.{ctx.method}.calib"
        calibrator = make_tensorrt_calibrator(_calibration(ctx), cache, ctx.method, spatial=ctx.spatial)
    info = trtx.build_engine(source, engine, precision, settings, calibrator, tuple(floats))
    info.update({"source": f"TensorRT builder from {Path(source).name}"})
    if precision == "int8":
        info.update({"int8_source": settings.int8_source, "calibration_method": ctx.method})
    return Built(engine, float_layers=tuple(floats), build=info)
