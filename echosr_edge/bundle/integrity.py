"""Checksums: every file the manifest pins is verified before anything loads it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.errors import BundleError


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


def verify_bundle(bundle_dir: Path, manifest: Manifest, files: list[str] | None = None) -> None:
    """Check size and sha256 of the pinned files (all, or only ``files``); raise naming the first bad one."""
    root = Path(bundle_dir).resolve()
    for rel, sha, size in manifest.pinned_files():
        if files is not None and rel not in files:
            continue
        path = (root / rel).resolve()
        if root not in path.parents:
            raise BundleError(f"bundle file {rel} resolves outside the bundle")
        if not path.is_file():
            raise BundleError(f"bundle file {rel} is missing")
        if path.stat().st_size != size or sha256_file(path) != sha:
            raise BundleError(f"bundle file {rel} does not match its checksum (altered or damaged)")


def open_bundle(bundle_dir: Path) -> Manifest:
    """Load the manifest and verify every pinned file; the runtime's one way in."""
    manifest = Manifest.load(bundle_dir)
    verify_bundle(bundle_dir, manifest)
    return manifest
