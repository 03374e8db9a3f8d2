"""`echosr-edge bench --frontier`: the speed/accuracy frontier of a bundle's SR models."""

from __future__ import annotations

from pathlib import Path

import click


def run_frontier_command(bundle: Path, manifest, profiles, data: Path | None, out: Path | None, runs: int, warmup: int,
                         classifier_profile: str | None, poor: str, split_seed: int, test_fraction: float) -> None:
    """Measure the frontier, write frontier.json/.md/.png, print the table and the findings."""
    from echosr_edge.bench.frontier import frontier_data, run_frontier
    from echosr_edge.bench.frontier_report import format_table, write_frontier

    if data is None:
        raise click.UsageError("--frontier needs --data ROOT: the CAMUS tree the models were trained on "
                               "(its held-out patients' good frames and its poor frames are measured)")
    teacher = manifest.for_profile("default").sr_model()
    if teacher is None:
        raise click.UsageError("--frontier needs a bundle with an SR model in its default profile")
    frames = frontier_data(data, int(teacher.preprocessing["hr_size"]), test_fraction, split_seed, poor)
    click.echo(f"frontier: {len(frames.good)} held-out good frames, {len(frames.poor)} poor frames ({frames.poor_selection})",
               err=True)
    report = run_frontier(
        bundle, profiles, frames, runs=runs, warmup=warmup, classifier_profile=classifier_profile, manifest=manifest,
        on_row=lambda r: click.echo(f"  {r.label} {r.format} {r.precision}: {r.ms_per_frame:.1f} ms/frame", err=True),
    )
    paths = write_frontier(report, out or Path(bundle).parent / "frontier")
    m = report.machine
    click.echo(f"{m['cpu']}, {m['cores']} cores, SIMD {' '.join(m['simd'])}; {report.runs} runs x batch 1; "
               f"accuracy CI: {report.ci_method}")
    click.echo(format_table(report))
    for line in report.findings:
        click.echo(f"- {line}")
    click.echo("report: " + ", ".join(str(p) for p in paths))
