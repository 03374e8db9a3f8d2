"""echosr-edge data …: synthetic CAMUS trees."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group("data")
def command() -> None:
    """CAMUS data: synthesise trees."""


@command.command("synth")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--patients", default=50, show_default=True, type=click.IntRange(min=1), help="Number of patients.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
def synth(out: Path, patients: int, seed: int) -> None:
    """Write a synthetic CAMUS-format tree (2023 NIfTI layout) to OUT."""
    from echosr_edge.data.synth import write_synthetic_camus

    with click.progressbar(length=patients, label="patients", file=sys.stderr) as bar:
        write_synthetic_camus(out, patients=patients, seed=seed, progress=lambda done, total: bar.update(1))
    click.echo(f"wrote {patients} patients ({patients * 4} frames) to {out}")
