"""echosr-edge export: checkpoints → artifacts per target × precision, verified against FP32, in a bundle."""

from __future__ import annotations

import math
from pathlib import Path

import click

from echosr_edge.bundle.budgets import CLASSIFIER_MAX_ACCURACY_DROP, CLASSIFIER_MIN_AGREEMENT, SR_MIN_PSNR_DB
from echosr_edge.calibration.methods import METHODS

from echosr_edge.bundle.vocabulary import FORMATS as TARGETS, PRECISIONS


def format_export_table(rows) -> str:
    """The export table as aligned text."""
    header = f"{'model':<10} {'target':<9} {'precision':<9} {'status':<24} {'size MB':>8}  {'metric vs FP32':<44} {'ms/frame':>9}  kept float"
    lines = [header, "-" * len(header)]
    for r in rows:
        status = r.status if len(r.status) <= 24 else r.status[:23] + "…"
        ms = "-" if math.isnan(r.ms_per_frame) else f"{r.ms_per_frame:.2f}"
        size = "-" if not r.size_mb else f"{r.size_mb:.2f}"
        floats = ", ".join(r.float_layers) if r.float_layers else "-"
        lines.append(f"{r.model:<10} {r.target:<9} {r.precision:<9} {status:<24} {size:>8}  {r.metric:<44} {ms:>9}  {floats}")
    long: dict[str, list[str]] = {}
    for r in rows:
        if len(r.status) > 24:
            long.setdefault(r.status, []).append(f"{r.model} {r.target} {r.precision}")
    notes = [f"* {', '.join(which)}: {status}" for status, which in long.items()]
    return "\n".join(lines + notes)


def _comma_list(value: str, known: tuple[str, ...], option: str) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [v for v in items if v not in known]
    if bad or not items:
        raise click.BadParameter(f"use a comma list of {', '.join(known)} (got {value!r})", param_hint=option)
    return items


def _parse_checkpoints(values: tuple[str, ...]) -> tuple[list[Path], dict[Path, str]]:
    paths, names = [], {}
    for value in values:
        name, sep, path = value.partition("=")
        p = Path(path if sep else value)
        if not p.exists():
            raise click.BadParameter(f"{p} does not exist", param_hint="CHECKPOINTS")
        paths.append(p)
        if sep:
            names[p] = name
    return paths, names


def _refuse_conflicts(targets, precisions, o: dict) -> None:
    """Flags that cannot go together: one message naming them."""
    if "int8" in precisions and o["calibration"] is None:
        raise click.UsageError("INT8 needs calibration data: give --calibration ROOT (a CAMUS tree or an .npy stack of frames)")
    if o["calibration"] is None and o["verification"] is None:
        raise click.UsageError("verification needs frames: give --calibration ROOT or --verification ROOT")
    if o["calibration"] is not None and o["calibration"].is_file() and o["verification"] is None:
        raise click.UsageError("an .npy calibration stack has no labels: give --verification ROOT (a CAMUS tree) too")
    trt_only = [f"--{k.replace('_', '-')}" for k in ("workspace", "dla", "trt_int8", "trt_cache") if o[k] is not None]
    if trt_only and "tensorrt" not in targets:
        raise click.UsageError(f"{', '.join(trt_only)} only apply to the tensorrt target; add it to --targets")
    if o["dla"] is not None and precisions == ("fp32",):
        raise click.UsageError("DLA runs FP16 or INT8 only: add fp16 or int8 to --precision")
    if o["trt_int8"] == "calibrator" and o["calibration_method"] == "percentile":
        raise click.UsageError("TensorRT calibrators do MinMax or Entropy: use --calibration-method minmax or entropy")
    if o["accuracy_control"] and not ("openvino" in targets and "int8" in precisions):
        raise click.UsageError("--accuracy-control quantises OpenVINO INT8: add openvino to --targets and int8 to --precision")
    if (o["max_drop"] is not None or o["max_drop_db"] is not None) and not o["accuracy_control"]:
        raise click.UsageError("--max-drop and --max-drop-db set the budget of --accuracy-control; add it")
    if o["simplify"]:
        try:
            import onnxsim  # noqa: F401
        except ImportError:
            raise click.UsageError('--simplify needs onnxsim, which is not installed: pip install "echosr-edge[simplify]"') from None


@click.command("export")
@click.argument("checkpoints", nargs=-1, required=True)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Bundle folder to write.")
@click.option("--targets", default="onnx", show_default=True, help="Comma list of onnx, openvino, tensorrt.")
@click.option("--precision", default="fp32,int8", show_default=True, help="Comma list of fp32, fp16, int8.")
@click.option("--calibration", type=click.Path(exists=True, path_type=Path), help="CAMUS root (stratified; its held-out patients verify) or an .npy N×H×W stack.")
@click.option("--verification", type=click.Path(exists=True, file_okay=False, path_type=Path), help="CAMUS root to verify on (default: the calibration root's held-out patients).")
@click.option("--calibration-method", default="minmax", show_default=True, type=click.Choice(METHODS))
@click.option("--calibration-frames", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--verification-frames", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--imgsz", type=click.IntRange(min=16), help="HR frame size (default: the checkpoint's); SR input is imgsz/scale.")
@click.option("--batch", type=click.IntRange(min=1), help="Static batch size (default: a dynamic batch axis).")
@click.option("--dynamic", is_flag=True, help="Dynamic height and width.")
@click.option("--opset", default=17, show_default=True, type=click.IntRange(min=13))
@click.option("--simplify", is_flag=True, help="Simplify the ONNX graph with onnxsim.")
@click.option("--float-layers", default="auto", show_default=True, type=click.Choice(["auto", "sensitive", "first-last", "none"]), help="Layers kept in float in INT8 (auto: SR first, first upsampling and last conv; none for classifiers).")
@click.option("--accuracy-control", is_flag=True, help="OpenVINO INT8 through nncf.quantize_with_accuracy_control.")
@click.option("--max-drop", type=click.FloatRange(min=0), help="Accuracy control, classifiers: allowed accuracy drop (fraction, default 0.01).")
@click.option("--max-drop-db", type=click.FloatRange(min=0), help="Accuracy control, SR: allowed PSNR-vs-HR drop in dB (default 0.1).")
@click.option("--workspace", type=click.FloatRange(min=0.0625), help="TensorRT builder workspace in GiB (default 1).")
@click.option("--dla", type=click.IntRange(min=0), help="TensorRT: build for this DLA core (Jetson), GPU fallback on.")
@click.option("--trt-int8", type=click.Choice(["qdq", "calibrator"]), help="TensorRT INT8 from the QDQ ONNX (default) or a calibrator (TensorRT ≤ 10).")
@click.option("--onnx-int8", default="asymmetric", show_default=True, type=click.Choice(["asymmetric", "symmetric"]),
              help="INT8 ONNX activations: asymmetric uint8 (CPUs) or symmetric int8 Q/DQ (what jetson/cuda build INT8 engines from).")
@click.option("--trt-cache", type=click.Path(file_okay=False, path_type=Path), help="TensorRT engine, timing and calibration caches.")
@click.option("--min-psnr", default=SR_MIN_PSNR_DB, show_default=True, help="Budget: SR PSNR vs FP32 (dB).")
@click.option("--min-agreement", default=CLASSIFIER_MIN_AGREEMENT, show_default=True, help="Budget: classifier agreement with FP32.")
@click.option("--max-accuracy-drop", default=CLASSIFIER_MAX_ACCURACY_DROP, show_default=True, help="Budget: classifier accuracy drop (fraction).")
@click.option("--allow-degraded", is_flag=True, help="Keep artifacts that miss their verification budget.")
@click.option("--seed", default=0, show_default=True)
@click.option("--profile", "bundle_profile", default="default", show_default=True, type=click.Choice(["default", "realtime"]),
              help="realtime: also export the distilled student and the classifiers at --realtime-input-size, as a second profile.")
@click.option("--student-checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The distilled student (train distill) for --profile realtime (default: the one student among CHECKPOINTS).")
@click.option("--realtime-input-size", type=click.IntRange(min=16),
              help="Classifier input size in the realtime profile (default: the size they were trained at).")
@click.option("--sign", "sign_key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Sign the bundle with this private key (.key from `keys new`).")
def command(checkpoints, out, targets, precision, bundle_profile, student_checkpoint, realtime_input_size, **o) -> None:
    """Export CHECKPOINTS (files, folders of *.pt, or NAME=PATH) to every target × precision.

    Models are recognised by their checkpoint metadata (SR or classifier and its task).
    Each artifact is verified against the PyTorch FP32 model on held-out frames; one over its
    budget is left out (and reported) unless --allow-degraded. Exit code 4 when a model ends with
    no artifact within budget (the bundle is still written, for inspection). With --profile realtime the bundle
    gets a second profile (student SR + fast classifiers) beside the default (SRResNet).
    """
    from echosr_edge.bundle.budgets import Budgets
    from echosr_edge.calibration.sets import from_frames, from_stack
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.splits import split_patients
    from echosr_edge.errors import DataError
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle
    from echosr_edge.export.models import discover_models
    from echosr_edge.export.profiles import plan_profiles
    from echosr_edge.export.tensorrt_export import TensorRTSettings, unavailable_reason

    signer = _signer(o.pop("sign_key"))
    targets = _comma_list(targets, TARGETS, "--targets")
    precisions = _comma_list(precision, PRECISIONS, "--precision")
    _refuse_conflicts(targets, precisions, o)
    if (student_checkpoint or realtime_input_size) and bundle_profile != "realtime":
        raise click.UsageError("--student-checkpoint and --realtime-input-size build the realtime profile: add --profile realtime")
    paths, names = _parse_checkpoints(checkpoints)
    given = {p.resolve() for p in paths} | {p.resolve() / student_checkpoint.name for p in paths if p.is_dir()} if student_checkpoint else set()
    if student_checkpoint is not None and student_checkpoint.resolve() not in given:
        paths.append(student_checkpoint)
    models, profiles = plan_profiles(discover_models(paths, names, o["imgsz"]), bundle_profile, student_checkpoint,
                                     realtime_input_size)

    calibration_root, verify_root = o["calibration"], o["verification"]
    calibration_frames = verification = None
    if calibration_root is not None and calibration_root.is_dir():
        try:
            frames = read_camus(calibration_root).frames
        except DataError as exc:
            raise DataError(calibration_root, f"the calibration set is empty: {exc.problem}") from exc
        if not frames:
            raise DataError(calibration_root, "the calibration set is empty: no readable CAMUS frames")
        if verify_root is None or verify_root.resolve() == calibration_root.resolve():
            calibration_frames, verification = split_patients(frames, 0.2, o["seed"])
        else:
            calibration_frames = frames
    if verification is None:
        verification = read_camus(verify_root).frames
        if not verification:
            raise DataError(verify_root, "no readable CAMUS frames to verify on")
    calibration = None
    if "int8" in precisions:
        count = o["calibration_frames"]
        if calibration_frames is not None:
            calibration = from_frames(calibration_frames, count, o["seed"], source=calibration_root)
        else:
            calibration = from_stack(calibration_root, count, o["seed"])
    if "tensorrt" in targets and (reason := unavailable_reason()):
        click.echo(f"note: {reason}; the other targets still export", err=True)

    trt = TensorRTSettings(
        workspace_gb=o["workspace"] or 1.0, dla_core=o["dla"], int8_source=o["trt_int8"] or "qdq", cache_dir=o["trt_cache"]
    )
    config = ExportConfig(
        targets=targets,
        precisions=precisions,
        calibration_method=o["calibration_method"],
        verification_count=o["verification_frames"],
        opset=o["opset"],
        batch=o["batch"],
        dynamic=o["dynamic"],
        simplify=o["simplify"],
        float_layers=o["float_layers"],
        accuracy_control=o["accuracy_control"],
        max_drop=0.01 if o["max_drop"] is None else o["max_drop"],
        max_drop_db=0.1 if o["max_drop_db"] is None else o["max_drop_db"],
        budgets=Budgets(o["min_psnr"], o["min_agreement"], o["max_accuracy_drop"]),
        tensorrt=trt,
        onnx_int8=o["onnx_int8"],
        allow_degraded=o["allow_degraded"],
        seed=o["seed"],
    )

    def progress(row) -> None:
        click.echo(f"  {row.model} {row.target} {row.precision}: {row.status}", err=True)

    _, rows = export_bundle(models, calibration, verification, out, config, on_row=progress, profiles=profiles)
    click.echo(format_export_table(rows))
    for name, slots in profiles.items():
        click.echo(f"profile {name}: " + ", ".join(f"{slot} {model}" for slot, model in slots.items()))
    over = [r for r in rows if r.status.startswith(("over budget", "degraded"))]
    if over:
        click.echo(f"{len(over)} artifact(s) missed their verification budget (see the table)", err=True)
    click.echo(f"bundle: {out}")
    if signer is not None:
        info = signer(out)
        click.echo(f"signed with key {info.key_id}: {out / info.file}")
    from echosr_edge.export.outcome import check_outcome

    degraded = check_outcome(rows, o["allow_degraded"])  # exit 4 naming the model when one has no artifact within budget
    if degraded:
        click.echo(f"kept degraded (no artifact within budget, --allow-degraded): {', '.join(degraded)}", err=True)


def _signer(key: Path | None):
    """Check the signing key before the long export (a wrong passphrase fails now); return a signing function."""
    if key is None:
        return None
    from echosr_edge.bundle.keys import load_private_key
    from echosr_edge.bundle.signing import sign_bundle
    from echosr_edge.cli._trust import passphrase

    secret = passphrase(key)
    load_private_key(key, secret)
    return lambda bundle: sign_bundle(bundle, key, secret)
