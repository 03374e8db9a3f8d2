"""echosr-edge bench: latency and fidelity report for a bundle."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("bench")
@click.option("--bundle", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--device", default="cpu", show_default=True, help="Device profile.")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(min=1), help="Timed runs per precision.")
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(min=0))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for bench.json and bench.md (default: BUNDLE/../report).")
def command(bundle: Path, device: str, runs: int, warmup: int, out: Path | None) -> None:
    """Bench every precision of BUNDLE on the bundle's verification frames."""
    from echosr_edge.devices.profiles import get_profile
    from echosr_edge.runtime.bench import bench_bundle, report_markdown, write_report

    report = bench_bundle(bundle, get_profile(device), runs=runs, warmup=warmup)
    json_path, md_path = write_report(report, out or Path(bundle).parent / "report")
    click.echo(report_markdown(report))
    click.echo(f"report: {json_path} and {md_path}")
