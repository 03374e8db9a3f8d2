"""echosr-edge batch IN OUT: a folder of scans through the pipeline, offline and resumable.

Exit codes: 0 every input processed; 3 partial (the run finished but some inputs failed; they
are listed in OUT/report.html and results.csv); 1 an error before any work (bundle, device,
no inputs, output folder in use or made with other settings); 2 a usage error.
``--verify-provenance OUT``: 0 every row names the bundle given, its artifacts and this version;
5 some rows name another (they are listed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from echosr_edge.cli._trust import trust_option

EXIT_OK = 0
EXIT_PARTIAL = 3


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """Draws BatchProgress on stderr: a redrawn bar on a terminal, a line per 10% otherwise."""

    def __init__(self, width: int = 30):
        self.width = width
        self.tty = sys.stderr.isatty()
        self.next_tenth = 1
        self.drawn = False

    def __call__(self, p) -> None:
        fraction = p.done / p.total if p.total else 1.0
        filled = int(self.width * fraction)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {p.done}/{p.total} files"
            f"{f', {p.failed} failed' if p.failed else ''}"
            f"{f' ({p.resumed} done earlier)' if p.resumed else ''}"
            f"  elapsed {_duration(p.elapsed_s)}  ETA {_duration(p.eta_s)}"
        )
        if self.tty:
            click.echo("\r" + line + "\x1b[K", nl=False, err=True)
            self.drawn = True
        elif fraction * 10 >= self.next_tenth or p.done == p.total:
            click.echo(line, err=True)
            self.next_tenth = int(fraction * 10) + 1

    def close(self) -> None:
        if self.drawn:
            click.echo("", err=True)


@click.command("batch")
@click.argument("input_dir", metavar="IN", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", metavar="OUT", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--device", default="auto", show_default=True, help="Device profile ('auto': the fastest this machine runs; it says why).")
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8"]), help="Artifact precision (default: the device's best).")
@click.option("--no-build", is_flag=True, help="jetson/cuda: refuse to start when TensorRT engines must be built first (names the command).")
@click.option("--enhance", default="always", show_default=True, type=click.Choice(["always", "never"]))
@click.option("--profile", "model_profile", default="default", show_default=True, help="Bundle profile (default, realtime).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes, each with its own engines.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1), help="Engine threads per worker.")
@click.option("--include", multiple=True, metavar="GLOB", help="Only files whose path under IN (or name) matches; repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files whose path under IN (or name) matches; repeatable.")
@click.option("--ground-truth", is_flag=True,
              help="Also read ground-truth files (CAMUS *_gt masks, the simulator's *_clean twins); passed over by default.")
@click.option("--keep-phi", is_flag=True, help="Copy DICOM patient identifiers into the results (off: they never leave the scans).")
@click.option("--no-images", is_flag=True, help="Do not write the enhanced frames as PNG.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--abstain", type=click.Choice(["on", "off"]), default="on", show_default=True,
              help="Give no view/phase for frames that are not a cardiac view or too uncertain (docs/abstention.md).")
@trust_option
@click.option("--verify-provenance", "verify_out", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Instead of processing: check every row of this batch output folder against --bundle (exit 5 if any differ).")
@click.pass_context
def command(
    ctx: click.Context,
    input_dir: Path,
    out: Path,
    bundle: Path,
    device: str,
    precision: str | None,
    enhance: str,
    workers: int,
    threads: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ground_truth: bool,
    keep_phi: bool,
    no_images: bool,
    quiet: bool,
    trust: tuple[Path, ...],
    model_profile: str = "default",
    no_build: bool = False,
    verify_out: Path | None = None,
    abstain: str = "on",
) -> None:
    """Process every scan under IN (NIfTI, DICOM, PNG/JPEG, mp4/avi) into OUT.

    Rerun the same command after an interruption: finished files are skipped. Exit code 0 when
    every file was processed, 3 when some failed (see OUT/report.html), 1 on an error before start.
    """
    from echosr_edge.batch.runner import BatchConfig, run_batch

    if verify_out is not None:
        from echosr_edge.cli._provenance import verify_provenance

        ctx.exit(verify_provenance(verify_out, bundle))
    if input_dir is None or out is None:
        raise click.UsageError("give IN and OUT (or --verify-provenance OUT)")
    config = BatchConfig(
        bundle=bundle,
        device=device,
        precision=precision,
        enhance=enhance,
        abstain=abstain == "on",
        workers=workers,
        threads=threads,
        include=include,
        exclude=exclude,
        ground_truth=ground_truth,
        keep_phi=keep_phi,
        write_images=not no_images,
        trust=trust,
        profile=model_profile,
    )
    if device in ("jetson", "cuda", "auto"):  # engines are built (or refused) once, here, before the workers open them
        from echosr_edge.cli._engines import prepare_engines
        from echosr_edge.runtime.session import open_verified, resolve_device

        profile = resolve_device(device) if device != "auto" else None
        manifest, _ = open_verified(bundle, trust)
        profile = profile or resolve_device("auto", manifest.for_profile(model_profile), precision)
        if "tensorrt" in profile.formats:
            prepare_engines(bundle, manifest.for_profile(model_profile), profile, precision, no_build)
    bar = None if quiet else ProgressBar()
    started = time.perf_counter()
    try:
        result = run_batch(input_dir, out, config, on_progress=bar, on_device=lambda d: click.echo(f"device {d}", err=True))
    finally:
        if bar:
            bar.close()
    resumed = f" ({result.resumed} finished by an earlier run)" if result.resumed else ""
    click.echo(
        f"{result.ok} of {result.inputs} files processed{resumed}, {result.failed} failed; "
        f"{result.frames} frames in {time.perf_counter() - started:.1f} s; no answer for {result.abstained} frames"
    )
    if result.ground_truth:
        click.echo(f"passed over {result.ground_truth} ground-truth files (masks, clean twins); --ground-truth reads them")
    for relative, error in result.errors[:10]:
        click.echo(f"  failed: {relative}: {error}")
    if len(result.errors) > 10:
        click.echo(f"  ... and {len(result.errors) - 10} more (see the report)")
    click.echo(f"report: {result.reports.report_html}")
    click.echo(f"results: {result.reports.results_csv}, {result.reports.results_jsonl.name}, {result.reports.frames_csv.name}")
    ctx.exit(EXIT_PARTIAL if result.partial else EXIT_OK)
