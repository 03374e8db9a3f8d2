"""Ed25519 signing keys: create, load, and name them by key id.

The library is ``cryptography`` (pyca): maintained, audited OpenSSL-backed primitives, with
manylinux wheels for x86_64 and aarch64 (Jetson), and it reads and writes standard PEM keys
(PKCS#8 private, SubjectPublicKeyInfo public) that ``openssl`` can also use. PyNaCl would do the
signing equally well but has its own raw key formats. The import is lazy so that loading a bundle
without a trust store does not pay for it.

Private keys are PEM files with mode 0600, optionally encrypted with a passphrase; like ssh,
a private key that others can read is refused. The key id is the first 16 hex characters of
the sha256 of the raw 32-byte public key: a name for people and file names only — a signature
is always checked against the trusted key's own bytes, never against a key found by id alone.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from echosr_edge.errors import BundleError, import_optional

KEY_ID_CHARS = 16
PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
MAX_KEY_FILE_BYTES = 16 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _crypto():
    """(ed25519, serialization) from ``cryptography``, or MissingExtra naming the 'sign' extra."""
    ed25519 = import_optional("cryptography.hazmat.primitives.asymmetric.ed25519", "sign")
    serialization = import_optional("cryptography.hazmat.primitives.serialization", "sign")
    return ed25519, serialization


@dataclass(frozen=True)
class KeyPair:
    """Where ``new_keypair`` wrote a key pair, and its key id."""

    key_id: str
    private_key: Path
    public_key: Path


def key_id(public_raw: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: sha256, first 16 hex characters."""
    return hashlib.sha256(public_raw).hexdigest()[:KEY_ID_CHARS]


def public_raw(private_key) -> bytes:
    """The raw 32-byte public key of an Ed25519 private key object."""
    _, ser = _crypto()
    return private_key.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def public_pem(public_raw_bytes: bytes) -> bytes:
    """A raw public key as a SubjectPublicKeyInfo PEM file's bytes."""
    ed25519, ser = _crypto()
    key = ed25519.Ed25519PublicKey.from_public_bytes(public_raw_bytes)
    return key.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)


def _write_new(path: Path, data: bytes, mode: int, overwrite: bool) -> None:
    """Write ``data`` to ``path`` created with ``mode`` (never briefly wider), atomically."""
    if path.exists() and not overwrite:
        raise BundleError(f"{path} already exists (pass --force to replace it)")
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def new_keypair(out_dir: Path, name: str = "signing", passphrase: bytes | None = None, overwrite: bool = False) -> KeyPair:
    """Generate an Ed25519 key pair: ``out_dir/NAME.key`` (PEM, mode 0600) and ``out_dir/NAME.pub``."""
    if not _NAME.fullmatch(name):
        raise BundleError(f"key name {name!r}: use letters, digits, '.', '_' and '-' only")
    ed25519, ser = _crypto()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = ed25519.Ed25519PrivateKey.generate()
    encryption = ser.BestAvailableEncryption(passphrase) if passphrase else ser.NoEncryption()
    private_pem = private.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, encryption)
    raw = public_raw(private)
    private_path, public_path = out_dir / f"{name}{PRIVATE_SUFFIX}", out_dir / f"{name}{PUBLIC_SUFFIX}"
    if not overwrite:
        for path in (private_path, public_path):
            if path.exists():
                raise BundleError(f"{path} already exists (pass --force to replace it)")
    _write_new(private_path, private_pem, 0o600, overwrite)
    _write_new(public_path, public_pem(raw), 0o644, overwrite)
    return KeyPair(key_id(raw), private_path, public_path)


def _read_key_file(path: Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        raise BundleError(f"key file not found: {path}")
    with open(path, "rb") as fh:
        data = fh.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise BundleError(f"{path}: too large to be a key file")
    return data


def private_key_is_encrypted(path: Path) -> bool:
    """Whether the PEM private key at ``path`` needs a passphrase."""
    return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in _read_key_file(path)


def load_private_key(path: Path, passphrase: bytes | None = None):
    """The Ed25519 private key object in PEM file ``path``; refuses one that others can read."""
    path = Path(path)
    data = _read_key_file(path)
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise BundleError(
            f"private key {path} can be read by other users (mode {path.stat().st_mode & 0o777:o}): chmod 600 it"
        )
    ed25519, ser = _crypto()
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and not passphrase:
        raise BundleError(f"private key {path} is encrypted and no passphrase was given")
    try:
        key = ser.load_pem_private_key(data, password=passphrase if encrypted else None)
    except Exception as exc:  # ValueError, TypeError, UnsupportedAlgorithm: all mean "cannot use this file"
        problem = "wrong passphrase, or not a PEM private key" if encrypted else "not a PEM private key"
        raise BundleError(f"{path}: {problem}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise BundleError(f"{path}: a {type(key).__name__.removeprefix('_')} key, but bundles are signed with Ed25519")
    return key


def load_public_key(path: Path) -> bytes:
    """The raw 32-byte Ed25519 public key in PEM file ``path``."""
    path = Path(path)
    data = _read_key_file(path)
    ed25519, ser = _crypto()
    try:
        key = ser.load_pem_public_key(data)
    except Exception as exc:  # ValueError, TypeError, UnsupportedAlgorithm: all mean "cannot use this file"
        hint = " (that is a private key: give the .pub file)" if b"PRIVATE KEY" in data else ""
        raise BundleError(f"{path}: not a PEM public key{hint}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise BundleError(f"{path}: a {type(key).__name__} key, but bundles are signed with Ed25519")
    return key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
