"""``batch --verify-provenance OUT --bundle B``: which rows of a batch folder another bundle, artifact or version made."""

from __future__ import annotations

from pathlib import Path

import click

EXIT_PROVENANCE_DIFFERS = 5


def verify_provenance(out: Path, bundle: Path) -> int:
    """Print the rows whose provenance differs from ``bundle``; return the exit code (0 or 5)."""
    from echosr_edge.runtime.provenance import verify_batch_provenance

    checked, bad = verify_batch_provenance(out, bundle)
    for label, problems in bad:
        click.echo(f"{label}: {'; '.join(problems)}")
    if bad:
        click.echo(f"{len(bad)} of {checked} rows name another bundle, artifact or version than {bundle}", err=True)
        return EXIT_PROVENANCE_DIFFERS
    click.echo(f"all {checked} rows match {bundle}")
    return 0
