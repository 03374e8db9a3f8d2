"""Export checkpoints to a bundle: every target × precision built, verified against FP32, pinned.

For each model: the PyTorch FP32 outputs on held-out verification frames are the reference;
the FP32 ONNX is the one graph every target is built from; each artifact is run on the same
frames and checked against its budget. An artifact over budget stays out of the bundle unless
``allow_degraded`` — and either way its row says so and the manifest's notes keep it.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge import __version__
from echosr_edge.bundle.budgets import Budgets
from echosr_edge.bundle.integrity import file_pin
from echosr_edge.bundle.manifest import SCHEMA_VERSION, Artifact, Manifest, ModelEntry, TensorSpec
from echosr_edge.bundle.vocabulary import PRECISIONS, SUFFIX
from echosr_edge.calibration.methods import check_method
from echosr_edge.calibration.sets import CalibrationSet, check_model_inputs, from_frames, stratified_frames
from echosr_edge.data.preprocess import resize_unit
from echosr_edge.data.records import Frame
from echosr_edge.errors import ConfigError, DataError, MissingExtra
from echosr_edge.export.deploy_graph import optimise_onnx_file
from echosr_edge.export.graph import float_layer_rule
from echosr_edge.export.held_out import HeldOut, enhanced_frames, with_enhanced, with_outliers
from echosr_edge.export.models import ExportModel, discover_models
from echosr_edge.export.onnx_export import DEFAULT_OPSET, export_onnx, simplify_onnx
from echosr_edge.export.targets import TARGETS, BuildContext, Built, Unavailable, build
from echosr_edge.export.tensorrt_export import TensorRTSettings
from echosr_edge.export.verify import run_verification, summary, verify, verify_ood

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportConfig:
    """What to export, how to calibrate, and what each artifact must reach."""

    targets: tuple[str, ...] = ("onnx",)
    precisions: tuple[str, ...] = ("fp32", "int8")
    calibration_method: str = "minmax"
    calibration_count: int = 64  # frames drawn when calibration is given as a list of frames
    verification_count: int = 32  # held-out frames; classifiers are also verified on their SR-enhanced versions
    opset: int = DEFAULT_OPSET
    batch: int | None = None  # None: a dynamic batch axis; N: a static batch of N
    dynamic: bool = False  # dynamic height and width
    simplify: bool = False
    graph_rewrites: bool = True  # exact CPU rewrites of the FP32 ONNX every artifact comes from (export.deploy_graph)
    float_layers: str = "auto"  # "auto" (SR: 'sensitive'; classifiers: 'none'), "sensitive", "first-last", "none"
    accuracy_control: bool = False  # OpenVINO INT8 through nncf.quantize_with_accuracy_control
    max_drop_db: float = 0.1  # SR: allowed PSNR-vs-HR drop (dB) under accuracy control
    max_drop: float = 0.01  # classifiers: allowed accuracy drop (fraction) under accuracy control
    budgets: Budgets = field(default_factory=Budgets)
    tensorrt: TensorRTSettings = field(default_factory=TensorRTSettings)
    # INT8 ONNX activations: "asymmetric" (uint8, best on CPUs) or "symmetric" (int8 Q/DQ with no zero
    # points: what a Jetson or CUDA device builds its INT8 TensorRT engine from; ONNX Runtime runs it too).
    onnx_int8: str = "asymmetric"
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
    float_layers: tuple[str, ...] = ()


def check_config(config: ExportConfig, calibration: CalibrationSet | None) -> None:
    """Refuse settings that cannot work together, naming the option to change."""
    for value, known, what in ((config.targets, TARGETS, "target"), (config.precisions, PRECISIONS, "precision")):
        bad = [v for v in value if v not in known]
        if bad or not value:
            raise ConfigError(f"unknown {what} {', '.join(bad) or '(none)'}; known: {', '.join(known)}")
    check_method(config.calibration_method)
    if "int8" in config.precisions and (calibration is None or len(calibration) == 0):
        raise ConfigError("INT8 export needs calibration frames, and none were given (--calibration ROOT)")
    if config.accuracy_control and not ("openvino" in config.targets and "int8" in config.precisions):
        raise ConfigError("accuracy-controlled quantisation applies to OpenVINO INT8: add openvino to --targets and int8 to --precision")
    if config.batch is not None and config.batch < 1:
        raise ConfigError("batch must be ≥ 1")


def _shape(batch: int | None, spatial: tuple[int, int] | None, dims: tuple[int, int], names=("height", "width")) -> tuple:
    b = "batch" if batch is None else batch
    return (b, 1, *(dims if spatial is not None else names))


def _trt_settings(config: ExportConfig, model: ExportModel) -> TensorRTSettings:
    s, b = model.input_size, config.batch or 1
    if config.batch is not None and not config.dynamic:
        return config.tensorrt
    lo, hi = (max(8, s // 2), s * 2) if config.dynamic else (s, s)
    max_batch = b if config.batch is not None else max(8, b)
    return replace(
        config.tensorrt,
        min_shape=config.tensorrt.min_shape or (1 if config.batch is None else b, 1, lo, lo),
        opt_shape=config.tensorrt.opt_shape or (b, 1, s, s),
        max_shape=config.tensorrt.max_shape or (max_batch, 1, hi, hi),
    )


def _accuracy_control(config: ExportConfig, model: ExportModel, calibration: CalibrationSet):
    from echosr_edge.export.openvino_export import AccuracyControl
    from echosr_edge.metrics import psnr

    inputs = model.inputs(calibration.images)
    if model.role == "sr":
        hr = model.hr(calibration.images)
        metric = lambda out, target: np.array([psnr(t[0], np.clip(o[0], 0, 1)) for o, t in zip(out, target)])  # noqa: E731
        return AccuracyControl(inputs, hr, metric, config.max_drop_db)
    labels = calibration.labels.get(model.task) if calibration.labels else None
    if not labels:
        raise DataError(calibration.source, f"accuracy control for the {model.task} classifier needs labelled calibration frames (a CAMUS tree)")
    targets = np.array([model.labels.index(lab) for lab in labels])
    return AccuracyControl(inputs, targets, lambda out, target: (out.argmax(1) == target).astype(float), config.max_drop)


def export_bundle(
    models: list[ExportModel] | dict[str, Path],
    calibration: CalibrationSet | list[Frame] | None,
    verification: list[Frame],
    out: Path,
    config: ExportConfig = ExportConfig(),
    on_row: Callable[[ExportRow], None] | None = None,
    profiles: dict[str, dict[str, str]] | None = None,
) -> tuple[Manifest, list[ExportRow]]:
    """Export each model into the bundle folder ``out``; returns the manifest and the table rows.

    ``models`` may be a name → checkpoint mapping and ``calibration`` a list of CAMUS frames (a
    stratified set of ``config.calibration_count`` is drawn from them). ``profiles`` (from
    export/profiles.py plan_profiles) names the models each runtime profile runs.
    """
    import torch

    from echosr_edge.models.checkpoint import load_checkpoint
    from echosr_edge.models.macs import count_macs
    from echosr_edge.train.common import predict_batches

    if not models:
        raise ConfigError("no checkpoints to export")
    if isinstance(models, dict):
        models = discover_models(list(models.values()), {Path(p): n for n, p in models.items()})
    if isinstance(calibration, list):
        calibration = from_frames(calibration, config.calibration_count, config.seed) if calibration else None
    check_config(config, calibration)
    if not verification:
        raise ConfigError("export needs verification frames, and none were found")
    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "verification").mkdir(exist_ok=True)
    work = out / ".work"
    verify_frames = stratified_frames(verification, config.verification_count, config.seed + 1, warn_below=None, source="verification frames")
    images = [f.image for f in verify_frames]
    enhanced = enhanced_frames(models, images, profiles)
    rows: list[ExportRow] = []
    entries: list[ModelEntry] = []
    left_out: list[dict] = []
    macs: dict[str, dict] = {}

    def emit(row: ExportRow) -> None:
        rows.append(row)
        if on_row:
            on_row(row)

    try:
        for model in models:
            torch_model, _ = load_checkpoint(model.checkpoint)
            count = count_macs(torch_model, (model.input_size, model.input_size))
            macs[model.name] = {"input_hw": list(count.input_hw), "total": count.total,
                                "per_input_pixel": count.per_input_pixel, "params": count.params}
            inputs = model.inputs(images)
            with torch.no_grad():
                reference = predict_batches(torch_model, inputs, batch=4)
            hr = model.hr(images) if model.role == "sr" else None
            truth = None if model.role == "sr" else np.array([model.labels.index(f.label(model.task)) for f in verify_frames])
            spatial = None if config.dynamic else (model.input_size, model.input_size)
            fp32_onnx = work / model.name / f"{model.name}.fp32.onnx"
            batch_shape = (config.batch or 1, 1, model.input_size, model.input_size)
            metadata = model.onnx_metadata(__version__)
            export_onnx(torch_model, fp32_onnx, batch_shape, opset=config.opset, dynamic_batch=config.batch is None,
                        dynamic_spatial=config.dynamic, metadata=metadata)
            if config.simplify:
                simplify_onnx(fp32_onnx)
            rewrites = optimise_onnx_file(fp32_onnx) if config.graph_rewrites else []
            calib = None
            if "int8" in config.precisions:
                calib = check_model_inputs(model.inputs(calibration.images), spatial, calibration.source)
            ctx = BuildContext(
                model=model,
                fp32_onnx=fp32_onnx,
                work=work / model.name,
                calibration=calib,
                method=config.calibration_method,
                float_rule=float_layer_rule(config.float_layers, model.role),
                spatial=spatial,
                metadata=metadata,
                accuracy_control=_accuracy_control(config, model, calibration) if config.accuracy_control else None,
                tensorrt=_trt_settings(config, model),
                symmetric_int8=config.onnx_int8 == "symmetric",
                rewrites=tuple(rewrites),
            )
            in_shape = _shape(config.batch, spatial, inputs.shape[2:])
            out_shape = _shape(config.batch, spatial, reference.shape[2:], ("out_height", "out_width")) if model.role == "sr" else (
                "batch" if config.batch is None else config.batch, len(model.labels))
            artifacts = []
            held_out = HeldOut(inputs, reference, hr, truth, tiers=np.array([str(f.quality) for f in verify_frames]))
            if model.task == "cardiac":  # the OOD gate runs on the raw frame; it is verified on outliers too
                held_out = with_outliers(held_out, model, torch_model, config.seed)
            elif model.role != "sr" and enhanced is not None:
                held_out = with_enhanced(held_out, model, torch_model, enhanced)
            for target in config.targets:
                for precision in config.precisions:
                    row, built, check, reason = _build_and_verify(target, precision, ctx, held_out, config)
                    emit(row)
                    if reason:
                        left_out.append({"model": model.name, "target": target, "precision": precision, "reason": reason})
                    if built is not None:
                        artifacts.append(_ship(out, model.name, target, precision, built, in_shape, out_shape, check))
            ref_rel = f"verification/{model.name}.fp32-reference.npy"
            np.save(out / ref_rel, reference.astype(np.float32), allow_pickle=False)
            entries.append(_entry(model, artifacts, inputs, file_pin(out, ref_rel), config))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    hr_size = max(m.hr_size for m in models)
    frames_rel = "verification/frames.npy"
    frames_u8 = np.stack([(resize_unit(im, hr_size) * 255 + 0.5).astype(np.uint8) for im in images])
    np.save(out / frames_rel, frames_u8, allow_pickle=False)
    ver_pin = file_pin(out, frames_rel)
    ver_pin["labels"] = {task: [f.label(task) for f in verify_frames] for task in ("view", "phase", "quality")}
    ver_pin["patients"] = [f.patient for f in verify_frames]
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        tool_version=__version__,
        models=tuple(entries),
        verification_frames=ver_pin,
        notes={**_notes(config, calibration, rows, left_out), "macs": macs},
        profiles=dict(profiles or {}),
    )
    manifest.save(out)
    return manifest, rows


def _build_and_verify(
    target: str, precision: str, ctx: BuildContext, held_out: HeldOut, config: ExportConfig
) -> tuple[ExportRow, Built | None, dict | None, str | None]:
    """Build and verify one artifact: (its row, the artifact to ship or None, its check, why it is left out)."""
    name = ctx.model.name
    try:
        built = build(target, precision, ctx)
    except (Unavailable, MissingExtra) as exc:
        return ExportRow(name, target, precision, f"skipped: {exc}", 0.0, "-", float("nan")), None, None, str(exc)
    except DataError:
        raise
    except Exception as exc:  # one target failing must not hide the others' results
        log.debug("building %s %s %s failed", name, target, precision, exc_info=True)
        text = _first_line(exc)
        return ExportRow(name, target, precision, f"failed: {text}", 0.0, "-", float("nan")), None, None, f"build failed: {text}"
    outputs, ms, setup = run_verification(built.file, target, held_out.inputs)
    built = replace(built, build={**built.build, "verified_with": setup})
    check = verify(ctx.model.role, held_out.reference, outputs, config.budgets, hr=held_out.hr, labels=held_out.labels)
    check.update(frames=len(held_out.inputs), ms_per_frame=ms)
    if ctx.model.meta.get("ood") and held_out.labels is not None:
        ood = verify_ood(outputs, held_out.labels, ctx.model.labels, ctx.model.meta["ood"], held_out.tiers)
        check["ood"] = ood
        check["failures"] = check["failures"] + ood["failures"]
        check["passed"] = not check["failures"]
    if held_out.enhanced:
        check["enhanced_frames"] = held_out.enhanced  # the last ones: SR-enhanced versions of the first
    kept = check["passed"] or config.allow_degraded
    status = "ok" if check["passed"] else ("degraded (kept)" if kept else "over budget (left out)")
    size = sum(p.stat().st_size for p in (built.file, *built.companions)) / 1e6
    row = ExportRow(name, target, precision, status, size, summary(ctx.model.role, check), ms, built.float_layers)
    reason = None
    if not check["passed"]:
        log.warning("%s %s %s misses its budget: %s", name, target, precision, "; ".join(check["failures"]))
        reason = None if kept else "over budget: " + "; ".join(check["failures"])
    return row, built if kept else None, check, reason


def _ship(out: Path, name: str, target: str, precision: str, built: Built, in_shape, out_shape, check: dict) -> Artifact:
    """Move a verified artifact (and its companions) into ``models/`` and pin it."""
    rel = f"models/{name}.{precision}{SUFFIX[target]}"
    pins = []
    for src in (built.file, *built.companions):
        dest_rel = rel if src == built.file else str(Path(rel).with_suffix(src.suffix))
        shutil.copyfile(src, out / dest_rel)
        pins.append(file_pin(out, dest_rel))
    main = pins[0]
    return Artifact(
        format=target,
        precision=precision,
        file=main["file"],
        sha256=main["sha256"],
        size=main["size"],
        inputs=(TensorSpec("input", in_shape),),
        outputs=(TensorSpec("output", out_shape),),
        verification=check,
        companions=tuple(pins[1:]),
        float_layers=built.float_layers,
        build=built.build,
    )


def _entry(model: ExportModel, artifacts: list[Artifact], inputs: np.ndarray, reference: dict, config: ExportConfig) -> ModelEntry:
    prep = {
        "hr_size": model.hr_size,
        "input_size": int(inputs.shape[-1]),
        "colour": "grey",
        "range": [0.0, 1.0],
        "resize": "OpenCV INTER_AREA to shrink, INTER_CUBIC to enlarge",
    }
    if model.role == "sr":
        prep["lr"] = f"bicubic down x{model.scale} of the hr_size frame (OpenCV INTER_CUBIC)"
    return ModelEntry(
        name=model.name,
        role=model.role,
        arch=model.arch,
        preprocessing=prep,
        artifacts=tuple(artifacts),
        labels=model.labels,
        scale=model.scale,
        task=model.task,
        reference=reference,
        calibration=dict(model.meta.get("calibration") or {}),
        ood=dict(model.meta.get("ood") or {}),
    )


def _row_dict(row: ExportRow) -> dict:
    d = dict(row.__dict__, float_layers=list(row.float_layers))
    d["ms_per_frame"] = None if np.isnan(row.ms_per_frame) else row.ms_per_frame
    return d


def _notes(config: ExportConfig, calibration: CalibrationSet | None, rows: list[ExportRow], left_out: list[dict]) -> dict:
    notes = {
        "budgets": config.budgets.to_notes(),
        "export": {"opset": config.opset, "batch": config.batch or "dynamic", "dynamic_hw": config.dynamic,
                   "simplified": config.simplify, "graph_rewrites": config.graph_rewrites, "float_layers": config.float_layers, "allow_degraded": config.allow_degraded,
                   "onnx_int8": config.onnx_int8},
        "table": [_row_dict(r) for r in rows],
        "left_out": left_out,
    }
    if calibration is not None and "int8" in config.precisions:
        notes["calibration"] = {
            "source": calibration.source,
            "frames": len(calibration),
            "method": config.calibration_method,
            "strata": calibration.strata,
            "too_small": calibration.too_small,
        }
    return notes


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
