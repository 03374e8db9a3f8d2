"""echosr-edge demo: the whole chain on the embedded synthetic data."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--out", default="demo-out", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--patients", default=60, show_default=True, type=click.IntRange(min=10))
@click.option("--seed", default=0, show_default=True)
def command(out: Path, patients: int, seed: int) -> None:
    """Synthesise data, train, export, run and bench — a few minutes on 2 CPU cores."""
    from echosr_edge.bench.report import report_markdown  # noqa: F401  (fail early if the runtime is broken)
    from echosr_edge.demo import DemoConfig, run_demo

    result = run_demo(out, DemoConfig(patients=patients, seed=seed), step=lambda msg: click.echo(msg, err=True))
    click.echo(result.bench_md.read_text())
    click.echo(f"demo finished in {result.seconds:.0f} s")
    click.echo(f"  data:      {result.data}")
    click.echo(f"  bundle:    {result.bundle}")
    click.echo(f"  run log:   {result.run_log}")
    click.echo(f"  report:    {result.bench_md} (and {result.bench_json.name})")
