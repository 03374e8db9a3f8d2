"""echosr-edge export: checkpoints → verified bundle."""

from __future__ import annotations

from pathlib import Path

import click


def format_export_table(rows) -> str:
    """The export table as aligned text."""
    header = f"{'model':<10} {'target':<8} {'precision':<9} {'status':<24} {'size MB':>8}  {'metric vs FP32':<32} {'ms/frame':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.model:<10} {r.target:<8} {r.precision:<9} {r.status:<24} {r.size_mb:>8.2f}  {r.metric:<32} {r.ms_per_frame:>9.2f}"
        )
    return "\n".join(lines)


@click.command("export")
@click.option("--sr", "sr_ckpt", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="SR checkpoint.")
@click.option("--classifier", "classifiers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Classifier checkpoint (repeatable).")
@click.option("--calibration", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="CAMUS root to draw calibration and verification frames from.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Bundle folder to write.")
@click.option("--precision", default="fp32,int8", show_default=True, help="Comma list of fp32, int8.")
@click.option("--calibration-method", default="minmax", show_default=True, type=click.Choice(["minmax", "entropy", "percentile"]))
@click.option("--calibration-frames", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--allow-degraded", is_flag=True, help="Keep artifacts that miss their verification budget.")
def command(sr_ckpt, classifiers, calibration, out, precision, calibration_method, calibration_frames, allow_degraded) -> None:
    """Export checkpoints to ONNX FP32 and INT8, verify them against FP32, write a bundle."""
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.splits import split_patients
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle
    from echosr_edge.models.checkpoint import load_checkpoint

    precisions = tuple(p.strip() for p in precision.split(",") if p.strip())
    bad = [p for p in precisions if p not in ("fp32", "int8")]
    if bad or "fp32" not in precisions:
        raise click.BadParameter("use fp32 and optionally int8, e.g. 'fp32,int8'", param_hint="--precision")
    checkpoints: dict[str, Path] = {}
    if sr_ckpt:
        checkpoints["sr"] = sr_ckpt
    for path in classifiers:
        _, meta = load_checkpoint(path)
        checkpoints[meta.get("task", path.stem)] = path
    if not checkpoints:
        raise click.UsageError("give at least one checkpoint (--sr or --classifier)")
    train, test = split_patients(read_camus(calibration).frames, 0.2, 0)
    config = ExportConfig(
        precisions=precisions, calibration_count=calibration_frames, calibration_method=calibration_method, allow_degraded=allow_degraded
    )
    _, rows = export_bundle(checkpoints, calibration=train, verification=test, out=out, config=config)
    click.echo(format_export_table(rows))
    click.echo(f"bundle: {out}")
