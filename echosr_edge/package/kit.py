"""Build an offline install kit for one target: bundle, wheels, scripts, service, README, SHA256SUMS."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from echosr_edge import __version__
from echosr_edge.bundle.integrity import sha256_file
from echosr_edge.bundle.keys import load_private_key
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.bundle.signing import SIGNATURE_DIR, sign_bundle
from echosr_edge.errors import EchoSRError
from echosr_edge.package import templates
from echosr_edge.package.bundle_select import Selection, copy_selection, select_for_target
from echosr_edge.package.kit_trust import check_trust_options, provision_trust
from echosr_edge.package.targets import Target, check_python_version, expand_platforms, get_target
from echosr_edge.package.wheels import WheelName, build_project_wheel, download_dependencies

log = logging.getLogger(__name__)

KIT_SCHEMA_VERSION = 1
KIT_JSON = "kit.json"
SUMS = "SHA256SUMS"
EXECUTABLES = ("install.sh", "launch.sh")
Step = Callable[[str], None]
# The unit's engine build: a no-op when the cache holds every engine, else minutes, so no start timeout.
ENGINE_UNIT_LINES = """# TensorRT engines are built on this device. The build is a no-op when the cache holds them; after
# a JetPack update (or an emptied cache) it takes minutes and logs each model, so no start timeout.
Environment=ECHOSR_ENGINE_CACHE=__PREFIX__/engines
ExecStartPre=__PREFIX__/venv/bin/echosr-edge engines build --bundle __PREFIX__/bundle --device @DEVICE@
TimeoutStartSec=infinity
"""


class KitError(EchoSRError):
    """A kit that cannot be built, or that fails its checks."""


@dataclass(frozen=True)
class KitOptions:
    """How to build a kit. ``deps``: "download" (pip, from the index), "folder" (``wheels_from``), "none"."""

    bundle: Path
    target: str
    out: Path
    python: str | None = None  # default: the target's
    platforms: tuple[str, ...] = ()  # default: manylinux tags for the target's CPU at glibc 2.35
    wheel: Path | None = None  # a ready echosr-edge wheel; default: build one from the source tree
    deps: str = "download"
    wheels_from: Path | None = None
    force: bool = False
    sign: Path | None = None  # private key that signs the kit's bundle (after its manifest is rewritten)
    passphrase: bytes | None = None  # for an encrypted ``sign`` key
    trust: tuple[Path, ...] = ()  # public keys (or folders) the device's trust store gets, beside the signer's


@dataclass(frozen=True)
class KitResult:
    """What went into a kit."""

    kit: Path
    target: str
    device: str
    python: str
    wheels: tuple[str, ...]
    artifacts: tuple[str, ...]
    dropped: tuple[str, ...]
    notes: tuple[str, ...]
    files: int
    bytes: int
    signed_by: str | None = None  # key id that signed the kit's bundle; None: the kit's bundle is unsigned
    trusted: tuple[str, ...] = ()  # key ids install.sh puts in the device's trust store (kit_trust.py)


def build_kit(options: KitOptions, step: Step | None = None) -> KitResult:
    """Build the kit into ``options.out`` (written beside it, then moved into place)."""
    say = step or (lambda msg: None)
    target = get_target(options.target)
    python = check_python_version(options.python or target.python)
    platforms = expand_platforms(options.platforms, target.arch)
    if options.deps not in ("download", "folder", "none"):
        raise ValueError(f"deps must be download, folder or none, not {options.deps!r}")
    if (options.deps == "folder") != (options.wheels_from is not None):
        raise ValueError("a wheels folder goes with deps='folder', and only with it")

    selection = select_for_target(Manifest.load(options.bundle), target)
    if options.sign is not None:
        load_private_key(options.sign, options.passphrase)  # a bad key or passphrase fails before any copying
    check_trust_options(options.trust, options.sign)
    out = Path(options.out)
    if out.exists() and not options.force:
        raise KitError(f"{out} already exists: choose another --out, or pass --force to replace it")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        say(f"copying the {target.name} artifacts of {options.bundle}")
        copy_selection(options.bundle, selection, staging / "bundle")
        signed_by = None
        if options.sign is not None:
            # The kit's manifest is a rewrite of the bundle's, so it needs its own signature.
            say(f"signing the kit's bundle with {options.sign}")
            signed_by = sign_bundle(staging / "bundle", options.sign, options.passphrase).key_id
        trusted = provision_trust(staging, options.trust, options.sign, options.passphrase)
        if trusted:
            say(f"the device's trust store gets key(s) {', '.join(trusted)}")
        wheels = staging / "wheels"
        wheels.mkdir()
        if options.wheel:
            project_wheel = Path(shutil.copy2(options.wheel, wheels / Path(options.wheel).name))
        else:
            say("building the echosr-edge wheel")
            project_wheel = build_project_wheel(wheels)
        name = WheelName.parse(project_wheel.name)
        if name.project != "echosr-edge":
            raise KitError(f"{options.wheel} is a wheel of {name.project}, not of echosr-edge")
        if options.deps != "none":
            where = "the package index" if options.deps == "download" else str(options.wheels_from)
            say(f"fetching the dependency wheels for {platforms[0]}, Python {python[0]}.{python[1]} from {where}")
            download_dependencies(project_wheel, target.extras, python, platforms, wheels, options.wheels_from)
        kit_info = _kit_info(target, selection, python, platforms, name, options, signed_by)
        kit_info["trust_store"] = trusted
        _write_texts(staging, target, selection, kit_info)
        files = write_sums(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    say(f"kit written to {out}")
    return KitResult(
        kit=out,
        target=target.name,
        device=selection.device,
        python=f"{python[0]}.{python[1]}",
        wheels=tuple(sorted(p.name for p in (out / "wheels").iterdir())),
        artifacts=tuple(kit_info["bundle"]["artifacts"]),
        dropped=selection.dropped,
        notes=tuple(kit_info["notes"]),
        files=len(files),
        bytes=sum((out / f).stat().st_size for f in files),
        signed_by=signed_by,
        trusted=tuple(trusted),
    )


def _kit_info(
    target: Target, selection: Selection, python, platforms, project: WheelName, options: KitOptions, signed_by: str | None
) -> dict:
    """The contents of kit.json: what the kit is for, and what it holds."""
    notes = list(selection.notes)
    if signed_by is None:
        source_signed = (Path(options.bundle) / SIGNATURE_DIR).is_dir()
        notes.append(
            "the kit's bundle is unsigned"
            + (" (packaging rewrote the manifest, so the source bundle's signature does not carry over)" if source_signed else "")
            + ": a device with a trust store refuses it; build with --sign KEY"
        )
    if options.deps == "none":
        notes.append("built without its dependency wheels (--no-deps-download): install.sh refuses to install it")
    if target.system_modules:
        notes.append(f"{', '.join(target.system_modules)} comes from the device's system and is checked at install, not shipped")
    extras = f"[{','.join(target.extras)}]" if target.extras else ""
    return {
        "kit_schema_version": KIT_SCHEMA_VERSION,
        "target": target.name,
        "device": selection.device,
        "arch": target.arch,
        "python": f"{python[0]}.{python[1]}",
        "platforms": list(platforms),
        "requirement": f"echosr-edge{extras}=={project.version}",
        "extras": list(target.extras),
        "system_modules": list(target.system_modules),
        "system_site_packages": target.system_site_packages,
        "dependencies": {"download": "downloaded", "folder": "from a local folder", "none": "not included"}[options.deps],
        "tool_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "bundle": {
            "models": selection.manifest.model_names,
            "artifacts": [f"{m.name}: {a.format}/{a.precision} ({a.file})" for m in selection.manifest.models for a in m.artifacts],
            "dropped": list(selection.dropped),
            "signed_by": signed_by,
        },
        "notes": notes,
    }


def _write_texts(kit: Path, target: Target, selection: Selection, info: dict) -> None:
    """install.sh, launch.sh, the unit file, the settings, the README and kit.json."""
    models = "".join(
        f"  {m.name} ({m.role}{', ' + m.task if m.task else ''}): "
        + ", ".join(f"{a.format}/{a.precision}" for a in m.artifacts)
        + "\n"
        for m in selection.manifest.models
    )
    values = {
        "VERSION": __version__,
        "TARGET": target.name,
        "DESCRIPTION": target.description,
        "PYTHON": info["python"],
        "ARCH": target.arch,
        "REQUIREMENT": info["requirement"],
        "DEPS_INCLUDED": "no" if info["dependencies"] == "not included" else "yes",
        "SYSTEM_SITE": "yes" if target.system_site_packages else "no",
        "SYSTEM_MODULES": " ".join(target.system_modules),
        "DEVICE": selection.device,
        "FORMATS": "/".join(sorted({a.format for m in selection.manifest.models for a in m.artifacts})),
        "CREATED": info["created"],
        "MODELS": models,
        "NOTES": "".join(f"\nNote: {n}.\n" for n in info["notes"]),
        "SYSTEM_CHECK": (f", checks that {', '.join(target.system_modules)} imports" if target.system_modules else "")
        + (", builds the TensorRT engines for this device from the ONNX files (minutes; progress is shown)"
           if target.builds_engines else ""),
        "BUILD_ENGINES": "yes" if target.builds_engines else "no",
        "ENGINE_BUILD": ENGINE_UNIT_LINES.replace("@DEVICE@", selection.device) if target.builds_engines else "",
    }
    texts = {
        "install.sh": templates.INSTALL_SH,
        "launch.sh": templates.LAUNCH_SH,
        "echosr-edge.service": templates.SERVICE,
        "echosr-edge.conf": templates.CONF,
        "README.txt": templates.README,
    }
    for name, template in texts.items():
        (kit / name).write_text(templates.render(template, values), encoding="utf-8")
    for name in EXECUTABLES:
        os.chmod(kit / name, 0o755)
    (kit / KIT_JSON).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def kit_files(kit: Path) -> list[str]:
    """Every file of the kit but SHA256SUMS, as sorted POSIX paths relative to the kit."""
    kit = Path(kit)
    files = (p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file() or p.is_symlink())
    return sorted(rel for rel in files if rel != SUMS)


def write_sums(kit: Path) -> list[str]:
    """Write SHA256SUMS (the format `sha256sum -c` reads) for every file of the kit; return the files."""
    files = kit_files(kit)
    lines = [f"{sha256_file(Path(kit) / rel)}  {rel}\n" for rel in files]
    (Path(kit) / SUMS).write_text("".join(lines), encoding="utf-8")
    return files
