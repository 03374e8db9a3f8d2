"""echosr-edge keys: make signing keys and manage the device trust store."""

from __future__ import annotations

import os
from pathlib import Path

import click

from echosr_edge.cli._trust import trust_option, trust_store


@click.group("keys")
def command() -> None:
    """Signing keys (Ed25519) and the device trust store."""


@command.command("new")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for NAME.key and NAME.pub.")
@click.option("--name", default="signing", show_default=True, help="File name stem of the key pair.")
@click.option("--encrypt", is_flag=True, help="Encrypt the private key with a passphrase ($ECHOSR_KEY_PASSPHRASE, or asked).")
@click.option("--force", is_flag=True, help="Replace an existing key pair of that name.")
def new(out: Path, name: str, encrypt: bool, force: bool) -> None:
    """Generate a key pair: a private key to sign with (mode 600) and a public key for devices."""
    from echosr_edge.bundle.keys import new_keypair

    secret = None
    if encrypt:
        secret = (os.environ.get("ECHOSR_KEY_PASSPHRASE") or click.prompt("Passphrase", hide_input=True, confirmation_prompt=True)).encode()
    pair = new_keypair(out, name=name, passphrase=secret, overwrite=force)
    click.echo(f"key {pair.key_id}")
    click.echo(f"  private: {pair.private_key} (keep it secret; sign with `echosr-edge bundle sign BUNDLE --key {pair.private_key}`)")
    click.echo(f"  public:  {pair.public_key} (give it to devices: `echosr-edge keys trust {pair.public_key}`)")


@command.command("show")
@click.argument("key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def show(key: Path) -> None:
    """Print the key id of a public (.pub) or private (.key) key file."""
    from echosr_edge.bundle.keys import key_id, load_private_key, load_public_key, private_key_is_encrypted, public_raw
    from echosr_edge.cli._trust import passphrase

    if b"PRIVATE KEY" in key.read_bytes()[:4096]:
        kind = "private, encrypted" if private_key_is_encrypted(key) else "private"
        raw = public_raw(load_private_key(key, passphrase(key)))
    else:
        kind, raw = "public", load_public_key(key)
    click.echo(f"{key}: ed25519 {kind} key {key_id(raw)}")


@command.command("trust")
@click.argument("public_key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dir", "trust_dir", type=click.Path(file_okay=False, path_type=Path), help="Trust directory (default: $ECHOSR_TRUST_DIR or ~/.config/echosr-edge/trust).")
def trust(public_key: Path, trust_dir: Path | None) -> None:
    """Add PUBLIC_KEY to this device's trust store."""
    from echosr_edge.bundle.trust import install_trusted_key

    key, path = install_trusted_key(public_key, trust_dir)
    click.echo(f"trusted key {key.key_id}: {path}")


@command.command("list")
@trust_option
def list_keys(trust: tuple[Path, ...]) -> None:
    """List the keys of the trust store in force (--trust, $ECHOSR_TRUST_DIR or the config directory)."""
    from echosr_edge.bundle.trust import default_trust_dir

    store = trust_store(trust)
    if store is None:
        click.echo(f"no trust store is set ({default_trust_dir()} holds no keys): bundles are checked by checksum only")
        return
    click.echo(f"trust store: {store.origin}")
    for key in store.keys:
        click.echo(f"  {key.key_id}  {key.source}")
