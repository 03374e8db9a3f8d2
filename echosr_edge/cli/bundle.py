"""echosr-edge bundle: sign a bundle, and verify its checksums, signature and trust."""

from __future__ import annotations

from pathlib import Path

import click

from echosr_edge.cli._trust import passphrase, trust_option, trust_store


@click.group("bundle")
def command() -> None:
    """Sign and verify bundles."""


@command.command("sign")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Private key (.key) from `keys new`.")
def sign(bundle: Path, key: Path) -> None:
    """Check BUNDLE's files against its manifest, then sign the manifest with KEY."""
    from echosr_edge.bundle.signing import sign_bundle

    info = sign_bundle(bundle, key, passphrase(key))
    click.echo(f"signed {bundle} with key {info.key_id}: {bundle / info.file}")


@command.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@trust_option
@click.option("--max-file-size", type=click.IntRange(min=1), help="Per-file size limit in MiB (default 4096).")
def verify(bundle: Path, trust: tuple[Path, ...], max_file_size: int | None) -> None:
    """Verify BUNDLE: schema, every file's sha256, every signature, and the trust store when one is set."""
    from echosr_edge.bundle.integrity import DEFAULT_MAX_FILE_BYTES, check_bundle

    limit = max_file_size * (1 << 20) if max_file_size else DEFAULT_MAX_FILE_BYTES
    check = check_bundle(bundle, trust_store(trust), max_file_bytes=limit)
    click.echo(f"checksums: {check.files} files, {check.bytes / 1e6:.2f} MB, all match the manifest")
    for sig in check.signatures:
        state = "valid" if sig.valid else f"INVALID ({sig.problem})"
        if sig.trusted:
            state += f", trusted ({sig.key_source})"
        elif sig.trusted is False:
            state += ", not trusted"
        click.echo(f"signature: {sig.file} key {sig.key_id} signed {sig.signed_at or '?'}: {state}")
    if not check.signatures:
        click.echo("signature: none (the bundle is unsigned)")
    if check.accepted_by is not None:
        click.echo(f"trust: accepted, signed by trusted key {check.accepted_by.key_id} (trust store: {check.trust_origin})")
    else:
        click.echo("trust: no trust store set (--trust, $ECHOSR_TRUST_DIR or ~/.config/echosr-edge/trust); signatures not required")
    for rel in check.unlisted:
        click.echo(f"note: {rel} is not pinned by the manifest (never loaded)")
