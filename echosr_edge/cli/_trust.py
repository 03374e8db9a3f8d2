"""The ``--trust`` option, shared by every command that opens a bundle (run, bench, batch, bundle verify)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import click

TRUST_HELP = (
    "Public key (.pub) or directory of them to trust (repeatable). When set — or when "
    "$ECHOSR_TRUST_DIR or ~/.config/echosr-edge/trust holds keys — unsigned or untrusted bundles are refused."
)


def trust_option(func):
    """Decorate a click command with ``--trust PATH`` (repeatable); the value is a tuple of Paths."""
    return click.option(
        "--trust",
        "trust",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help=TRUST_HELP,
    )(func)


def trust_store(paths: Sequence[Path]):
    """The TrustStore for ``--trust`` values (or the configured directory), or None when none is set."""
    from echosr_edge.bundle.trust import resolve_trust_store

    return resolve_trust_store(tuple(paths))


def passphrase(key: Path, env_var: str = "ECHOSR_KEY_PASSPHRASE") -> bytes | None:
    """The passphrase for an encrypted private key: ``$ECHOSR_KEY_PASSPHRASE``, else a hidden prompt."""
    import os

    from echosr_edge.bundle.keys import private_key_is_encrypted

    if not private_key_is_encrypted(key):
        return None
    value = os.environ.get(env_var) or click.prompt(f"Passphrase for {key}", hide_input=True)
    return value.encode("utf-8")
