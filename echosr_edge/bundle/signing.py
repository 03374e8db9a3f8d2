"""Ed25519 signatures over manifest.json, which pins every other file of the bundle by sha256.

A signature is a small JSON file ``signatures/<key id>.sig`` beside the manifest::

    {"format": "echosr-edge-signature", "version": 1, "algorithm": "ed25519",
     "key_id": "…", "public_key": "<base64 raw 32 bytes>", "signed_file": "manifest.json",
     "signed_sha256": "…", "signed_at": "…", "signature": "<base64 64 bytes>"}

The signed message is ``CONTEXT + the exact bytes of manifest.json``. The context string keeps a
bundle signature from being replayed as a signature on anything else the same key signs. Only
the signature is authenticated; ``signed_at``, ``signed_sha256`` and the embedded public key
help messages but are never trusted: a trust store checks against its own copy of the key.

Several keys may sign one bundle (one file each); a trust store accepts the bundle when any
trusted key's signature holds.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from echosr_edge.bundle.integrity import verify_bundle
from echosr_edge.bundle.keys import _crypto, key_id, load_private_key, public_raw
from echosr_edge.bundle.manifest import MANIFEST_NAME, Manifest, read_manifest_bytes
from echosr_edge.bundle.trust import TrustStore
from echosr_edge.errors import BundleError

SIGNATURE_DIR = "signatures"
SIGNATURE_SUFFIX = ".sig"
SIGNATURE_FORMAT = "echosr-edge-signature"
ALGORITHM = "ed25519"
CONTEXT = b"echosr-edge/bundle-manifest/v1\n"
MAX_SIGNATURE_BYTES = 64 * 1024
MAX_SIGNATURES = 32


class SignatureError(BundleError):
    """A bundle that a trust store refuses: unsigned, signed by an unknown key, or changed since signing."""


@dataclass(frozen=True)
class SignatureInfo:
    """One signature file, and what checking it against the manifest found."""

    file: str  # relative to the bundle: signatures/<key id>.sig
    key_id: str
    algorithm: str
    signed_at: str
    valid: bool  # the signature holds for manifest.json's current bytes
    trusted: bool | None  # the key is in the trust store (None: no trust store was given)
    key_source: str = ""  # the trust-store file that holds the key
    problem: str = ""  # why it is not valid


def _b64(text: object, what: str, size: int) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a string")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{what} is not base64") from exc
    if len(raw) != size:
        raise ValueError(f"{what} is {len(raw)} bytes, expected {size}")
    return raw


def sign_bundle(bundle_dir: Path, private_key_path: Path, passphrase: bytes | None = None) -> SignatureInfo:
    """Check the bundle's files against its manifest, then sign the manifest with the key at ``private_key_path``.

    Writes ``signatures/<key id>.sig`` (replacing an older signature by the same key).
    """
    bundle_dir = Path(bundle_dir)
    raw = read_manifest_bytes(bundle_dir)
    verify_bundle(bundle_dir, Manifest.from_bytes(raw, bundle_dir / MANIFEST_NAME))
    key = load_private_key(private_key_path, passphrase)
    public = public_raw(key)
    kid = key_id(public)
    signed_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    record = {
        "format": SIGNATURE_FORMAT,
        "version": 1,
        "algorithm": ALGORITHM,
        "key_id": kid,
        "public_key": base64.b64encode(public).decode("ascii"),
        "signed_file": MANIFEST_NAME,
        "signed_sha256": hashlib.sha256(raw).hexdigest(),
        "signed_at": signed_at,
        "signature": base64.b64encode(key.sign(CONTEXT + raw)).decode("ascii"),
    }
    sig_dir = bundle_dir / SIGNATURE_DIR
    sig_dir.mkdir(exist_ok=True)
    path = sig_dir / f"{kid}{SIGNATURE_SUFFIX}"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)
    return SignatureInfo(f"{SIGNATURE_DIR}/{path.name}", kid, ALGORITHM, signed_at, True, None)


def _check_one(path: Path, rel: str, manifest_bytes: bytes, trust: TrustStore | None) -> SignatureInfo:
    """Check one signature file; never raises for a bad file, it reports it."""
    ed25519, _ = _crypto()
    try:
        if not path.is_file():
            raise ValueError("not a regular file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_SIGNATURE_BYTES + 1)
        if len(data) > MAX_SIGNATURE_BYTES:
            raise ValueError(f"over {MAX_SIGNATURE_BYTES} bytes")
        record = json.loads(data.decode("utf-8"))
        if not isinstance(record, dict) or record.get("format") != SIGNATURE_FORMAT:
            raise ValueError(f"not an {SIGNATURE_FORMAT} file")
        if record.get("version") != 1 or record.get("algorithm") != ALGORITHM:
            raise ValueError(f"version {record.get('version')!r} / algorithm {record.get('algorithm')!r} not supported")
        if record.get("signed_file") != MANIFEST_NAME:
            raise ValueError(f"signs {record.get('signed_file')!r}, not {MANIFEST_NAME}")
        claimed = record.get("key_id")
        if not isinstance(claimed, str):
            raise ValueError("no key_id")
        signature = _b64(record.get("signature"), "signature", 64)
        embedded = _b64(record.get("public_key"), "public_key", 32)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return SignatureInfo(rel, "?", "?", "", False, None if trust is None else False, problem=f"unreadable: {exc}")
    signed_at = str(record.get("signed_at", ""))[:64]
    trusted_key = trust.get(claimed) if trust is not None else None
    if trusted_key is not None:
        public, trusted, source = trusted_key.public_key, True, trusted_key.source
    else:
        public, trusted, source = embedded, (None if trust is None else False), ""
        if key_id(embedded) != claimed:
            return SignatureInfo(rel, claimed[:64], ALGORITHM, signed_at, False, trusted, problem="key_id does not match its public key")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, CONTEXT + manifest_bytes)
        valid, problem = True, ""
    except Exception as exc:  # InvalidSignature, or a malformed point
        valid = False
        signed_sha = record.get("signed_sha256")
        now_sha = hashlib.sha256(manifest_bytes).hexdigest()
        if isinstance(signed_sha, str) and signed_sha != now_sha:
            problem = f"{MANIFEST_NAME} changed since it was signed (sha256 {now_sha[:16]}…, signed {signed_sha[:16]}…)"
        elif trusted_key is not None and embedded != public:
            problem = "signed by a different key that claims the trusted key's id"
        else:
            problem = f"the signature does not verify ({type(exc).__name__})"
    return SignatureInfo(rel, claimed[:64], ALGORITHM, signed_at, valid, trusted, source, problem)


def read_signatures(bundle_dir: Path, manifest_bytes: bytes | None = None, trust: TrustStore | None = None) -> list[SignatureInfo]:
    """Check every ``signatures/*.sig`` of the bundle against manifest.json (and ``trust``, if given)."""
    bundle_dir = Path(bundle_dir)
    raw = read_manifest_bytes(bundle_dir) if manifest_bytes is None else manifest_bytes
    sig_dir = bundle_dir / SIGNATURE_DIR
    if not sig_dir.is_dir():
        return []
    paths = sorted(sig_dir.glob(f"*{SIGNATURE_SUFFIX}"))
    if len(paths) > MAX_SIGNATURES:
        raise SignatureError(f"{sig_dir} holds {len(paths)} signatures, over the limit of {MAX_SIGNATURES}")
    return [_check_one(p, f"{SIGNATURE_DIR}/{p.name}", raw, trust) for p in paths]


def verify_signature(bundle_dir: Path, trusted_keys: TrustStore, manifest_bytes: bytes | None = None) -> SignatureInfo:
    """The valid signature by a trusted key; else SignatureError saying why the bundle is refused.

    Pass ``manifest_bytes`` to check the very bytes that will then be parsed.
    """
    bundle_dir = Path(bundle_dir)
    sigs = read_signatures(bundle_dir, manifest_bytes, trusted_keys)
    good = next((s for s in sigs if s.valid and s.trusted), None)
    if good is not None:
        return good
    where = f"bundle {bundle_dir} refused"
    store = f"the trust store ({trusted_keys.origin}) holds {', '.join(trusted_keys.key_ids)}"
    if not sigs:
        raise SignatureError(f"{where}: it is unsigned (no {SIGNATURE_DIR}/*{SIGNATURE_SUFFIX}) and a trust store is set")
    broken = [s for s in sigs if s.trusted]
    if broken:
        s = broken[0]
        raise SignatureError(f"{where}: the signature by trusted key {s.key_id} does not hold: {s.problem}")
    ids = ", ".join(s.key_id if s.key_id != "?" else f"{s.file} ({s.problem})" for s in sigs)
    raise SignatureError(f"{where}: signed only by key(s) {ids}, none of which is trusted; {store}")
