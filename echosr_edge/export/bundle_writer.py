"""Export trained checkpoints to a bundle: ONNX FP32, ONNX Runtime INT8, verified, pinned."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from echosr_edge import __version__
from echosr_edge.bundle.integrity import file_pin
from echosr_edge.bundle.manifest import SCHEMA_VERSION, Artifact, Manifest, ModelEntry, TensorSpec
from echosr_edge.calibration.sets import stratified_frames
from echosr_edge.data.preprocess import as_batch, bicubic_down, resize_unit
from echosr_edge.data.records import Frame
from echosr_edge.export.onnx_export import DEFAULT_OPSET, export_onnx
from echosr_edge.export.quantize_ort import quantize_int8_qdq
from echosr_edge.export.verify import run_artifact, verify_classifier, verify_sr
from echosr_edge.models.checkpoint import load_checkpoint
from echosr_edge.train.common import predict_batches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportConfig:
    """What to export and how to calibrate."""

    precisions: tuple[str, ...] = ("fp32", "int8")
    calibration_count: int = 64
    calibration_method: str = "minmax"
    verification_count: int = 16
    opset: int = DEFAULT_OPSET
    allow_degraded: bool = False
    seed: int = 0


@dataclass(frozen=True)
class ExportRow:
    """One line of the export table."""

    model: str
    target: str
    precision: str
    status: str
    size_mb: float
    metric: str
    ms_per_frame: float


def _model_inputs(meta: dict, role: str, frames: list[Frame]) -> np.ndarray:
    hr = [resize_unit(f.image, int(meta["hr_size"])) for f in frames]
    if role == "sr":
        return as_batch([bicubic_down(x, int(meta["scale"])) for x in hr])
    size = int(meta["input_size"])
    return as_batch([resize_unit(f.image, size) for f in frames])


def _artifact(bundle: Path, rel: str, fmt: str, precision: str, in_shape, out_shape, verification) -> Artifact:
    pin = file_pin(bundle, rel)
    return Artifact(
        format=fmt,
        precision=precision,
        file=rel,
        sha256=pin["sha256"],
        size=pin["size"],
        inputs=(TensorSpec("input", in_shape),),
        outputs=(TensorSpec("output", out_shape),),
        verification=verification,
    )


def export_bundle(
    checkpoints: dict[str, Path],
    calibration: list[Frame],
    verification: list[Frame],
    out: Path,
    config: ExportConfig = ExportConfig(),
    on_row: Callable[[ExportRow], None] | None = None,
) -> tuple[Manifest, list[ExportRow]]:
    """Export each checkpoint (name → path) into the bundle folder ``out``.

    Every artifact is checked against the PyTorch FP32 model on ``verification`` frames; one
    outside its budget is left out of the bundle unless ``config.allow_degraded``.
    """
    if not checkpoints:
        raise ValueError("no checkpoints to export")
    if "int8" in config.precisions and not calibration:
        raise ValueError("INT8 export needs calibration frames, and none were found")
    if not verification:
        raise ValueError("export needs verification frames, and none were found")
    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "verification").mkdir(exist_ok=True)
    calib = stratified_frames(calibration, config.calibration_count, config.seed) if calibration else []
    verify = stratified_frames(verification, config.verification_count, config.seed + 1, warn_below=None)
    rows: list[ExportRow] = []
    entries: list[ModelEntry] = []
    hr_size = None
    for name, ckpt_path in checkpoints.items():
        model, meta = load_checkpoint(ckpt_path)
        role = "sr" if meta.get("role") == "sr" else "classifier"
        hr_size = int(meta["hr_size"])
        inputs = _model_inputs(meta, role, verify)
        with torch.no_grad():
            reference = predict_batches(model, inputs, batch=4)
        in_shape = ("batch", 1, *inputs.shape[2:])
        out_shape = ("batch", *reference.shape[1:])
        labels = meta.get("labels", [])
        truth = None
        if role == "classifier":
            truth = np.array([list(labels).index(f.label(meta["task"])) for f in verify])
        onnx_meta = {"echosr_edge.model": name, "echosr_edge.role": role, "echosr_edge.version": __version__}
        onnx_meta.update({f"echosr_edge.{k}": str(meta[k]) for k in ("hr_size", "scale", "input_size", "task") if k in meta})
        if labels:
            onnx_meta["echosr_edge.labels"] = ",".join(labels)
        fp32_rel = f"models/{name}.fp32.onnx"
        export_onnx(model, out / fp32_rel, (1, *inputs.shape[1:]), opset=config.opset, metadata=onnx_meta)
        files = {"fp32": fp32_rel}
        if "int8" in config.precisions:
            int8_rel = f"models/{name}.int8.onnx"
            calib_inputs = _model_inputs(meta, role, calib)
            quantize_int8_qdq(out / fp32_rel, out / int8_rel, calib_inputs, method=config.calibration_method)
            files["int8"] = int8_rel
        artifacts = []
        for precision, rel in files.items():
            outputs, ms = run_artifact(out / rel, "onnx", inputs)
            if role == "sr":
                check = verify_sr(reference, outputs)
            else:
                check = verify_classifier(reference, outputs, truth)
            check["frames"] = len(verify)
            check["ms_per_frame"] = ms
            kept = check["passed"] or config.allow_degraded or precision == "fp32"
            status = "ok" if check["passed"] else ("degraded (kept)" if kept else "over budget (left out)")
            unit = " dB" if role == "sr" else ""
            metric = f"{check['metric']} {check['value']:.4g}{unit}"
            row = ExportRow(name, "onnx", precision, status, (out / rel).stat().st_size / 1e6, metric, ms)
            rows.append(row)
            if on_row:
                on_row(row)
            if kept:
                artifacts.append(_artifact(out, rel, "onnx", precision, in_shape, out_shape, check))
            else:
                (out / rel).unlink()
                log.warning("%s %s is over its verification budget and was left out", name, precision)
        ref_rel = f"verification/{name}.fp32-reference.npy"
        np.save(out / ref_rel, reference.astype(np.float32), allow_pickle=False)
        prep = {
            "hr_size": hr_size,
            "input_size": int(inputs.shape[-1]),
            "colour": "grey",
            "range": [0.0, 1.0],
            "resize": "OpenCV INTER_AREA to shrink, INTER_CUBIC to enlarge",
        }
        if role == "sr":
            prep["lr"] = f"bicubic down x{meta['scale']} of the hr_size frame (OpenCV INTER_CUBIC)"
        entries.append(
            ModelEntry(
                name=name,
                role=role,
                arch=meta["arch"],
                preprocessing=prep,
                artifacts=tuple(artifacts),
                labels=tuple(labels),
                scale=int(meta["scale"]) if role == "sr" else None,
                task=meta.get("task"),
                reference=file_pin(out, ref_rel),
            )
        )
    frames_rel = "verification/frames.npy"
    frames_u8 = np.stack([(resize_unit(f.image, hr_size) * 255 + 0.5).astype(np.uint8) for f in verify])
    np.save(out / frames_rel, frames_u8, allow_pickle=False)
    ver_pin = file_pin(out, frames_rel)
    ver_pin["labels"] = {task: [f.label(task) for f in verify] for task in ("view", "phase", "quality")}
    ver_pin["patients"] = [f.patient for f in verify]
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        tool_version=__version__,
        models=tuple(entries),
        verification_frames=ver_pin,
        notes={
            "calibration": {"frames": len(calib), "method": config.calibration_method, "stratified_by": ["quality", "view", "phase"]},
            "budgets": {"sr_min_psnr_vs_fp32_db": 40.0, "classifier_min_agreement": 0.99},
        },
    )
    manifest.save(out)
    return manifest, rows
