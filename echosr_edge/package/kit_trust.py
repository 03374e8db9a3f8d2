"""A kit that provisions its device's trust store, so its signature protects something by default.

``package --sign KEY`` puts the signer's public key in the kit's ``trust/`` folder, and each
``--trust KEY.pub`` (or folder of them) adds more. install.sh copies ``trust/`` to
``PREFIX/trust``; launch.sh (what the service runs) sets ``$ECHOSR_TRUST_DIR`` to it, so the
service refuses, at start, a bundle that no key there signed, with one journal line saying why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from echosr_edge.bundle.keys import PUBLIC_SUFFIX, key_id, load_private_key, public_pem, public_raw
from echosr_edge.bundle.trust import TrustStore
from echosr_edge.errors import EchoSRError

TRUST_DIR = "trust"


def check_trust_options(trust: Sequence[Path], sign: Path | None) -> None:
    """Refuse a kit whose device would refuse its own bundle: trusting keys needs a signed bundle."""
    if trust and sign is None:
        raise EchoSRError(
            "--trust provisions the device's trust store, so the kit's bundle must be signed (packaging rewrites "
            "the manifest, so a source signature does not carry over): add --sign KEY"
        )


def provision_trust(kit: Path, trust: Sequence[Path], sign: Path | None, passphrase: bytes | None = None) -> list[str]:
    """Write ``kit/trust/<key id>.pub`` for the signer's key and each trusted key; return the key ids."""
    keys: dict[str, bytes] = {}
    if sign is not None:
        raw = public_raw(load_private_key(sign, passphrase))
        keys[key_id(raw)] = raw
    if trust:
        for k in TrustStore.from_paths(list(trust)).keys:
            keys.setdefault(k.key_id, k.public_key)
    if not keys:
        return []
    folder = Path(kit) / TRUST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for kid, raw in keys.items():
        (folder / f"{kid}{PUBLIC_SUFFIX}").write_bytes(public_pem(raw))
    return sorted(keys)
