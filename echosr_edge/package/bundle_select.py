"""The part of a bundle one target needs: its artifacts only, under a rewritten manifest.

Files are copied byte for byte, so every kept artifact keeps its sha256; the source bundle is
verified before anything is copied and the copy is verified again after.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from echosr_edge.bundle.integrity import verify_bundle
from echosr_edge.bundle.manifest import MANIFEST_NAME, Manifest
from echosr_edge.errors import BundleError
from echosr_edge.package.targets import Target

PACKAGED_FOR = "packaged_for"  # manifest.notes key: the target a kit's bundle was cut for


@dataclass(frozen=True)
class Selection:
    """What a target gets from a bundle: the trimmed manifest, the device to run it, what was left out."""

    manifest: Manifest
    device: str
    dropped: tuple[str, ...]  # "model: format/precision" of the artifacts left behind
    notes: tuple[str, ...]  # things the technician must know (no engine for the device, fallbacks)


def select_for_target(manifest: Manifest, target: Target) -> Selection:
    """Keep the artifacts ``target`` runs; refuse a bundle that has none for one of its models."""
    models, dropped = [], []
    for entry in manifest.models:
        kept = []
        for art in entry.artifacts:
            shipped = target.shipped_for(art.format)
            if shipped and art.precision in shipped.precisions:
                kept.append(art)
            else:
                dropped.append(f"{entry.name}: {art.format}/{art.precision}")
        if not kept:
            have = ", ".join(f"{a.format}/{a.precision}" for a in entry.artifacts) or "none"
            wanted = ", ".join(f"{s.format} ({'/'.join(s.precisions)})" for s in target.shipped)
            raise BundleError(
                f"model {entry.name!r} has no artifact a {target.name} device can run "
                f"(needs {wanted}; the bundle has: {have})"
            )
        models.append(dataclasses.replace(entry, artifacts=tuple(kept)))

    device, notes = _device_and_notes(target, models)
    trimmed = dataclasses.replace(
        manifest, models=tuple(models), notes={**manifest.notes, PACKAGED_FOR: target.name}
    )
    return Selection(manifest=trimmed, device=device, dropped=tuple(dropped), notes=tuple(notes))


def _device_and_notes(target: Target, models: list) -> tuple[str, list[str]]:
    """The device profile every model can run under, and what the technician should know about it."""
    preferred = target.shipped[0]
    missing = [m.name for m in models if not any(a.format == preferred.format for a in m.artifacts)]
    engines = (
        ["the kit ships ONNX only: install.sh builds the TensorRT engines on the device from it "
         "(minutes per model), and the service rebuilds any that are missing before it starts"]
        if target.builds_engines else []
    )
    if not missing:
        return preferred.device, engines
    for fallback in target.shipped[1:]:
        if all(any(a.format == fallback.format for a in m.artifacts) for m in models):
            return fallback.device, [
                f"no {preferred.format} artifact in the bundle for {', '.join(missing)}: "
                f"the kit runs the {fallback.format} fallback with --device {fallback.device}"
            ]
    raise BundleError(
        f"no one format of {', '.join(target.formats)} covers every model of the bundle "
        f"({', '.join(missing)} lack {preferred.format}); export the bundle again for {target.name}"
    )


def copy_selection(bundle_dir: Path, selection: Selection, out: Path) -> Path:
    """Copy the selected files of ``bundle_dir`` into ``out`` with the trimmed manifest; verify the copy."""
    bundle_dir, out = Path(bundle_dir), Path(out)
    verify_bundle(bundle_dir, Manifest.load(bundle_dir))
    out.mkdir(parents=True, exist_ok=False)
    for rel, _, _ in selection.manifest.pinned_files():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle_dir / rel, dest)
    selection.manifest.save(out)
    verify_bundle(out, Manifest.load(out))
    return out / MANIFEST_NAME


def bundle_problems(bundle_dir: Path, target: Target, checksums: bool = True) -> list[str]:
    """Why the bundle in a kit does not suit ``target`` (empty when it does); with ``checksums``,
    also whether its files match the manifest's pins."""
    try:
        manifest = Manifest.load(bundle_dir)
        if checksums:
            verify_bundle(bundle_dir, manifest)
    except BundleError as exc:
        return [str(exc)]
    problems = []
    packaged_for = manifest.notes.get(PACKAGED_FOR)
    if packaged_for != target.name:
        problems.append(f"the bundle was cut for {packaged_for!r}, but the kit is for {target.name!r}")
    for entry in manifest.models:
        foreign = sorted({f"{a.format}/{a.precision}" for a in entry.artifacts} - _allowed(target))
        if foreign:
            problems.append(f"model {entry.name!r} carries {', '.join(foreign)}, which a {target.name} kit does not ship")
        if not any(f"{a.format}/{a.precision}" in _allowed(target) for a in entry.artifacts):
            problems.append(f"model {entry.name!r} has no artifact a {target.name} device can run")
    return problems


def _allowed(target: Target) -> set[str]:
    return {f"{s.format}/{p}" for s in target.shipped for p in s.precisions}
