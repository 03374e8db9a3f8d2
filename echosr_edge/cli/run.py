"""echosr-edge run: enhance-then-classify on a frame source (torch-free)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("run")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--source", required=True, help="Video file, image folder, or NIfTI file/folder.")
@click.option("--device", default="cpu", show_default=True, help="Device profile.")
@click.option("--precision", type=click.Choice(["fp32", "int8"]), help="Artifact precision (default: the device's best).")
@click.option("--enhance", default="always", show_default=True, type=click.Choice(["always", "never"]))
@click.option("--headless", is_flag=True, help="No window; log only.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), help="JSON-lines log, one line per frame.")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
def command(bundle: Path, source: str, device: str, precision: str | None, enhance: str, headless: bool, log_path: Path | None, max_frames: int | None) -> None:
    """Run the bundle's pipeline on SOURCE's frames."""
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.pipeline import load_pipeline
    from echosr_edge.runtime.run import run_source
    from echosr_edge.runtime.sources import open_source

    pipeline = load_pipeline(bundle, get_profile(device), precision=precision, enhance=enhance)
    frames = open_source(source)
    summary = run_source(pipeline, frames, log_path=log_path, max_frames=max_frames)
    click.echo(
        f"{summary.frames} frames from {frames.description}: end-to-end p50 {summary.p50_ms:.1f} ms, p95 {summary.p95_ms:.1f} ms"
        + (f"; log: {log_path}" if log_path else "")
    )
