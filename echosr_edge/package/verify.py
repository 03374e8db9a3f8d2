"""Check a kit: every file against SHA256SUMS, nothing unlisted, and a bundle and wheels that suit its target."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from echosr_edge.bundle.integrity import sha256_file
from echosr_edge.errors import EchoSRError
from echosr_edge.package.bundle_select import bundle_problems
from echosr_edge.package.kit import KIT_JSON, KIT_SCHEMA_VERSION, SUMS, KitError, kit_files
from echosr_edge.package.targets import check_python_version, get_target
from echosr_edge.package.wheels import WheelName, wheel_requirements

if TYPE_CHECKING:
    from echosr_edge.bundle.signing import SignatureInfo
    from echosr_edge.bundle.trust import TrustStore


@dataclass(frozen=True)
class KitCheck:
    """The outcome of checking a kit: what was checked and every problem found (none: the kit is sound)."""

    kit: Path
    target: str | None
    files_checked: int
    problems: tuple[str, ...]
    signatures: tuple["SignatureInfo", ...] = ()  # the kit's bundle's signatures (empty: unsigned)
    accepted_by: "SignatureInfo | None" = None  # the trusted signature, when a trust store was given

    @property
    def ok(self) -> bool:
        return not self.problems


def read_sums(kit: Path) -> dict[str, str]:
    """SHA256SUMS as {relative path: sha256}; a malformed line raises naming its number."""
    path = Path(kit) / SUMS
    if not path.is_file():
        raise KitError(f"{kit} is not a kit: no {SUMS}")
    sums = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel or any(c not in "0123456789abcdef" for c in digest):
            raise KitError(f"{path}: line {number} is not '<sha256>  <file>'")
        sums[rel] = digest
    return sums


def verify_kit(kit: Path, trust: "TrustStore | None" = None) -> KitCheck:
    """Check ``kit`` and return every problem, each naming the file or model it is about.

    Every signature of the kit's bundle must hold; with ``trust`` set, a trusted key must have
    signed it (an unsigned kit is then a problem), as the device will demand.
    """
    kit = Path(kit)
    if not kit.is_dir():
        raise KitError(f"kit not found: {kit}")
    sums = read_sums(kit)
    problems = []
    present = set(kit_files(kit))
    for rel in sorted(sums):
        path = kit / rel
        if rel not in present:
            problems.append(f"kit file {rel} is missing")
        elif path.is_symlink():
            problems.append(f"kit file {rel} is a symbolic link; a kit holds plain files only")
        elif sha256_file(path) != sums[rel]:
            problems.append(f"kit file {rel} does not match {SUMS} (altered or damaged)")
    problems += [f"kit file {rel} is not listed in {SUMS}" for rel in sorted(present - set(sums))]

    info = _read_kit_json(kit, problems)
    if info is not None:
        problems += _target_problems(kit, info, problems)
    signatures, accepted = _signature_problems(kit / "bundle", trust, problems)
    problems += _own_trust_problems(kit)
    target = info.get("target") if info else None
    return KitCheck(
        kit=kit,
        target=target,
        files_checked=len(sums),
        problems=tuple(problems),
        signatures=signatures,
        accepted_by=accepted,
    )


def _signature_problems(bundle: Path, trust: "TrustStore | None", problems: list[str]):
    """Check the signatures of the kit's bundle, adding to ``problems``; return them and the trusted one."""
    if not (bundle / "manifest.json").is_file():
        return (), None  # already reported by the bundle check
    from echosr_edge.bundle.signing import read_signatures, verify_signature

    try:
        signatures = tuple(read_signatures(bundle, trust=trust))
    except EchoSRError as exc:
        problems.append(f"bundle/: {exc}")
        return (), None
    problems += [f"bundle/{s.file} (key {s.key_id}) does not hold: {s.problem}" for s in signatures if not s.valid]
    accepted = None
    if trust is not None:
        try:
            accepted = verify_signature(bundle, trust)
        except EchoSRError as exc:
            problems.append(f"bundle/: {exc}")
    return signatures, accepted


def _read_kit_json(kit: Path, problems: list[str]) -> dict | None:
    path = kit / KIT_JSON
    if not path.is_file():
        problems.append(f"kit file {KIT_JSON} is missing")
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"kit file {KIT_JSON} is not valid JSON ({exc})")
        return None
    if not isinstance(info, dict) or info.get("kit_schema_version") != KIT_SCHEMA_VERSION:
        problems.append(f"kit file {KIT_JSON}: kit schema version not supported (this build reads {KIT_SCHEMA_VERSION})")
        return None
    return info


def _target_problems(kit: Path, info: dict, earlier: list[str]) -> list[str]:
    """The bundle suits the kit's target; the wheels install on its CPU and Python."""
    try:
        target = get_target(str(info.get("target")))
        python = check_python_version(str(info.get("python")))
    except EchoSRError as exc:
        return [f"kit file {KIT_JSON}: {exc}"]
    # A bundle file already reported against SHA256SUMS need not be reported again against its pin.
    sums_ok = not any(p.startswith("kit file bundle/") for p in earlier)
    problems = [f"bundle/: {p}" for p in bundle_problems(kit / "bundle", target, checksums=sums_ok)]
    platforms = tuple(info.get("platforms") or ())
    if any(not tag.endswith("_" + target.arch) for tag in platforms):
        problems.append(f"kit file {KIT_JSON}: platforms {', '.join(platforms)} are not all for {target.arch}")
    wheels = sorted(p.name for p in (kit / "wheels").glob("*.whl")) if (kit / "wheels").is_dir() else []
    projects, project_wheel = set(), None
    for file in wheels:
        try:
            name = WheelName.parse(file)
        except EchoSRError as exc:
            problems.append(f"kit file wheels/{file}: {exc}")
            continue
        projects.add(name.project)
        if name.project == "echosr-edge":
            project_wheel = kit / "wheels" / file
        if not name.installs_on(python, platforms):
            problems.append(
                f"kit file wheels/{file} does not install on {target.name} "
                f"(CPython {python[0]}.{python[1]}, {target.arch})"
            )
    if project_wheel is None:
        problems.append("wheels/ holds no echosr-edge wheel")
    elif info.get("dependencies") != "not included":
        needed = wheel_requirements(project_wheel, tuple(info.get("extras") or ())) | {"pip"}
        missing = sorted(needed - projects)
        if missing:
            problems.append(f"wheels/ lacks {', '.join(missing)}, which {project_wheel.name} needs")
    return problems


def _own_trust_problems(kit: Path) -> list[str]:
    """A kit that provisions a trust store (``trust/``) must carry a bundle that store accepts: the device checks it so."""
    from echosr_edge.bundle.signing import verify_signature
    from echosr_edge.bundle.trust import TrustStore
    from echosr_edge.errors import BundleError
    from echosr_edge.package.kit_trust import TRUST_DIR

    folder = kit / TRUST_DIR
    if not folder.is_dir():
        return []
    try:
        verify_signature(kit / "bundle", TrustStore.from_paths([folder], origin=f"the kit's {TRUST_DIR}/"))
    except BundleError as exc:
        return [f"the device would refuse the kit's bundle with the trust store the kit installs: {exc}"]
    return []
