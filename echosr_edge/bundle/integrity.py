"""Checksums and trust: every file the manifest pins is verified before anything loads it.

``open_bundle`` is the runtime's one way in. Given a trust store it first checks the signature
over the manifest's exact bytes — before parsing them — and refuses an unsigned bundle or one
no trusted key has signed; then it checks every pinned file's size and sha256 (or, for a run
that loads a few of the bundle's models, every file but the models, each model being checked as
its engine opens it: ``defer_artifacts``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from echosr_edge.bundle.manifest import MANIFEST_NAME, Artifact, Manifest, read_manifest_bytes
from echosr_edge.errors import BundleError

if TYPE_CHECKING:  # the signing modules import cryptography; only a trust store needs them
    from echosr_edge.bundle.signing import SignatureInfo
    from echosr_edge.bundle.trust import TrustStore

DEFAULT_MAX_FILE_BYTES = 4 << 30  # 4 GiB: above any ONNX (2 GiB protobuf cap) or TensorRT engine we ship


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def file_pin(bundle_dir: Path, rel: str) -> dict:
    """{"file", "sha256", "size"} for a file inside the bundle."""
    path = Path(bundle_dir) / rel
    return {"file": rel, "sha256": sha256_file(path), "size": path.stat().st_size}


def verify_bundle(
    bundle_dir: Path,
    manifest: Manifest,
    files: list[str] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> int:
    """Check size and sha256 of the pinned files (all, or only ``files``); raise naming the first bad one.

    Each file must be a regular file whose real path (symlinks resolved) lies inside the bundle,
    and no larger than ``max_file_bytes``. Returns the number of bytes checked.
    """
    root = Path(bundle_dir).resolve()
    checked = 0
    for rel, sha, size in manifest.pinned_files():
        if files is not None and rel not in files:
            continue
        _check_pin(root, rel, sha, size, max_file_bytes)
        checked += size
    return checked


def _check_pin(root: Path, rel: str, sha: str, size: int, max_file_bytes: int) -> None:
    if size > max_file_bytes:
        raise BundleError(f"bundle file {rel} declares {size} bytes, over the per-file limit of {max_file_bytes}")
    path = (root / rel).resolve()
    if root not in path.parents:
        raise BundleError(f"bundle file {rel} resolves outside the bundle")
    if not path.exists():
        raise BundleError(f"bundle file {rel} is missing")
    if not path.is_file():
        raise BundleError(f"bundle file {rel} is not a regular file")
    if path.stat().st_size != size or sha256_file(path) != sha:
        raise BundleError(f"bundle file {rel} does not match its checksum (altered or damaged)")


def artifact_pins(artifact: Artifact) -> list[tuple[str, str, int]]:
    """(file, sha256, size) of an artifact's main file and its companions (an IR's .bin)."""
    return [(artifact.file, artifact.sha256, artifact.size)] + [
        (c["file"], c["sha256"], int(c["size"])) for c in artifact.companions
    ]


def verify_artifact(bundle_dir: Path, artifact: Artifact, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
    """Check size and sha256 of one artifact's files right before an engine loads them."""
    root = Path(bundle_dir).resolve()
    for rel, sha, size in artifact_pins(artifact):
        _check_pin(root, rel, sha, size, max_file_bytes)


def open_bundle(
    bundle_dir: Path,
    trust: "TrustStore | None" = None,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    defer_artifacts: bool = False,
) -> Manifest:
    """Load the manifest and verify every pinned file; the runtime's one way in.

    With ``trust`` set, a bundle that is unsigned, signed only by keys outside it, or whose
    manifest changed since a trusted key signed it is refused (SignatureError says which).
    ``defer_artifacts`` leaves the model files to ``verify_artifact``, which
    ``runtime.engine.open_artifact`` calls right before any engine loads one: a device hashes
    the ~25 MB it loads, not every backend's files (a bundle of four targets is ~10× that).
    Everything else the manifest pins (verification frames, references) is verified here.
    """
    raw = read_manifest_bytes(bundle_dir)
    if trust is not None:
        from echosr_edge.bundle.signing import verify_signature

        verify_signature(bundle_dir, trust, manifest_bytes=raw)
    manifest = Manifest.from_bytes(raw, Path(bundle_dir) / MANIFEST_NAME)
    if defer_artifacts:
        deferred = {rel for entry in manifest.models for art in entry.artifacts for rel, _, _ in artifact_pins(art)}
        rest = [rel for rel, _, _ in manifest.pinned_files() if rel not in deferred]
        verify_bundle(bundle_dir, manifest, files=rest, max_file_bytes=max_file_bytes)
    else:
        verify_bundle(bundle_dir, manifest, max_file_bytes=max_file_bytes)
    return manifest


@dataclass(frozen=True)
class BundleCheck:
    """What ``check_bundle`` found: files and bytes verified, signatures, the accepting one, extras."""

    bundle: str
    files: int
    bytes: int
    signatures: tuple["SignatureInfo", ...]
    accepted_by: "SignatureInfo | None"  # the trusted signature (None without a trust store)
    trust_origin: str  # where the trust store came from ("" without one)
    unlisted: tuple[str, ...]  # files in the bundle that the manifest does not pin (never loaded)


def _unlisted(bundle_dir: Path, manifest: Manifest) -> tuple[str, ...]:
    from echosr_edge.bundle.signing import SIGNATURE_DIR

    pinned = {rel for rel, _, _ in manifest.pinned_files()} | {MANIFEST_NAME}
    found = []
    for dirpath, _dirnames, filenames in os.walk(bundle_dir):  # does not follow directory symlinks
        rel_dir = Path(dirpath).relative_to(bundle_dir).as_posix()
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in pinned and not (rel_dir == SIGNATURE_DIR and name.endswith(".sig")):
                found.append(rel)
    return tuple(sorted(found))


def check_bundle(
    bundle_dir: Path,
    trust: "TrustStore | None" = None,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> BundleCheck:
    """Everything ``bundle verify`` reports: checksums, every signature, and the trust decision.

    Raises as ``open_bundle`` does; without a trust store it also raises when a signature present
    in the bundle does not hold (the manifest changed after signing).
    """
    from echosr_edge.bundle.signing import SignatureError, read_signatures, verify_signature

    bundle_dir = Path(bundle_dir)
    raw = read_manifest_bytes(bundle_dir)
    accepted = verify_signature(bundle_dir, trust, manifest_bytes=raw) if trust is not None else None
    manifest = Manifest.from_bytes(raw, bundle_dir / MANIFEST_NAME)
    checked = verify_bundle(bundle_dir, manifest, max_file_bytes=max_file_bytes)
    sigs = tuple(read_signatures(bundle_dir, raw, trust))
    if trust is None:
        bad = next((s for s in sigs if not s.valid), None)
        if bad is not None:
            raise SignatureError(f"bundle {bundle_dir}: {bad.file} (key {bad.key_id}) does not hold: {bad.problem}")
    return BundleCheck(
        str(bundle_dir),
        len({rel for rel, _, _ in manifest.pinned_files()}),
        checked,
        sigs,
        accepted,
        trust.origin if trust is not None else "",
        _unlisted(bundle_dir, manifest),
    )
