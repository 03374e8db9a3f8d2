"""The device trust store: the public keys whose signatures a device accepts.

A trust store is set when keys are named explicitly (``--trust FILE_OR_DIR``), when
``$ECHOSR_TRUST_DIR`` is set, or when the config directory
(``$XDG_CONFIG_HOME/echosr-edge/trust``, default ``~/.config/echosr-edge/trust``) holds at least
one ``*.pub`` file. Explicit keys replace the configured ones rather than adding to them, so
what a command trusts is visible on its command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from echosr_edge.bundle.keys import PUBLIC_SUFFIX, key_id, load_public_key, public_pem
from echosr_edge.errors import BundleError

TRUST_DIR_ENV = "ECHOSR_TRUST_DIR"
MAX_TRUSTED_KEYS = 256


@dataclass(frozen=True)
class TrustedKey:
    """One trusted Ed25519 public key and the file it came from."""

    key_id: str
    public_key: bytes = field(repr=False)  # raw 32 bytes
    source: str = ""


@dataclass(frozen=True)
class TrustStore:
    """The keys a device trusts, and where they were read from (for messages)."""

    keys: tuple[TrustedKey, ...]
    origin: str = ""

    def __post_init__(self):
        if not self.keys:
            raise BundleError(f"the trust store ({self.origin or 'no origin'}) holds no keys")

    def get(self, kid: str) -> TrustedKey | None:
        """The trusted key with id ``kid``, or None."""
        return next((k for k in self.keys if k.key_id == kid), None)

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id for k in self.keys]

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_paths(cls, paths: Sequence[Path], origin: str = "") -> "TrustStore":
        """Keys from ``.pub`` files, and from every ``*.pub`` in the directories among ``paths``."""
        files: list[Path] = []
        for path in map(Path, paths):
            if path.is_dir():
                found = sorted(p for p in path.glob(f"*{PUBLIC_SUFFIX}") if p.is_file())
                if not found:
                    raise BundleError(f"no public keys (*{PUBLIC_SUFFIX}) in trust directory {path}")
                files += found
            elif path.is_file():
                files.append(path)
            else:
                raise BundleError(f"trusted key not found: {path}")
        if len(files) > MAX_TRUSTED_KEYS:
            raise BundleError(f"{len(files)} trusted keys, over the limit of {MAX_TRUSTED_KEYS}")
        keys: dict[str, TrustedKey] = {}
        for path in files:
            raw = load_public_key(path)
            keys.setdefault(key_id(raw), TrustedKey(key_id(raw), raw, str(path)))
        return cls(tuple(keys.values()), origin or ", ".join(str(p) for p in paths))


def default_trust_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$ECHOSR_TRUST_DIR``, else ``$XDG_CONFIG_HOME/echosr-edge/trust``, else ``~/.config/echosr-edge/trust``."""
    env = os.environ if env is None else env
    if env.get(TRUST_DIR_ENV):
        return Path(env[TRUST_DIR_ENV]).expanduser()
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path(env.get("HOME", "~")).expanduser() / ".config"
    return config / "echosr-edge" / "trust"


def resolve_trust_store(paths: Sequence[Path] = (), env: Mapping[str, str] | None = None) -> TrustStore | None:
    """The trust store a command uses: ``paths`` if any, else the configured directory, else None.

    ``$ECHOSR_TRUST_DIR`` set to a directory that is missing or holds no keys is an error, not
    "no trust store": a device that was meant to check signatures must not silently stop.
    """
    env = os.environ if env is None else env
    if paths:
        return TrustStore.from_paths(paths, origin="--trust " + " ".join(str(p) for p in paths))
    directory = default_trust_dir(env)
    if env.get(TRUST_DIR_ENV):
        if not directory.is_dir():
            raise BundleError(f"${TRUST_DIR_ENV} is {directory}, which is not a directory")
        return TrustStore.from_paths([directory], origin=f"${TRUST_DIR_ENV} ({directory})")
    if directory.is_dir() and any(directory.glob(f"*{PUBLIC_SUFFIX}")):
        return TrustStore.from_paths([directory], origin=str(directory))
    return None


def install_trusted_key(public_key_path: Path, trust_dir: Path | None = None) -> tuple[TrustedKey, Path]:
    """Copy a public key into the trust directory as ``<key id>.pub``; returns the key and its new path."""
    raw = load_public_key(public_key_path)
    directory = Path(trust_dir) if trust_dir else default_trust_dir()
    directory.mkdir(parents=True, exist_ok=True)
    kid = key_id(raw)
    target = directory / f"{kid}{PUBLIC_SUFFIX}"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(public_pem(raw))  # re-encoded: the store holds exactly the key, nothing else
    tmp.replace(target)
    return TrustedKey(kid, raw, str(target)), target
