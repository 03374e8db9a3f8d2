"""The one way to turn a bundle into a running pipeline: ``open_session``.

Every command (run, bench, batch, inspect), the demo, the benchmarks and the web view open
bundles here, so each gets the same steps in the same order:

1. the bundle's checksums verified once, against the device trust store by default (the
   configured ``$ECHOSR_TRUST_DIR`` or ``~/.config/echosr-edge/trust``; explicit keys replace it);
2. the bundle profile chosen (``default``, ``realtime``);
3. the device profile resolved (``auto`` picks one that runs here and fits the bundle), with
   threads, a DLA core and OpenVINO hints applied;
4. artifacts chosen and engines opened (``runtime.pipeline.load_pipeline``);
5. the start-up check against the bundle's FP32 references (``runtime.checks``).

Security must not depend on a caller remembering the trust store: there is no argument that
turns it off. A machine with no trust store configured accepts unsigned bundles, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.bundle.trust import TrustStore, resolve_trust_store
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.errors import EchoSRError, OptionError
from echosr_edge.runtime.checks import StartupCheck, cached_check, enforce
from echosr_edge.runtime.pipeline import ENHANCE_MODES, Pipeline, load_pipeline
from echosr_edge.runtime.sector import SectorCropper

log = logging.getLogger(__name__)

Trust = TrustStore | Sequence[Path]


@dataclass
class Session:
    """An opened bundle ready to run: its verified manifest, the device, the pipeline and its check.

    ``notes`` are lines for the user (artifacts passed over, enhancement fallbacks, the start-up
    check's findings); ``problems`` are the start-up check's lines outside budget.
    """

    bundle: Path
    manifest: Manifest  # the whole bundle's manifest (every profile), verified
    bundle_profile: str
    device: DeviceProfile
    pipeline: Pipeline
    trust: TrustStore | None
    check: StartupCheck | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    device_reason: str = ""  # why this device profile ("auto: OpenVINO is installed and ...")
    check_cached: bool = False  # the start-up check passed on this machine with these engines before

    def describe(self) -> str:
        """One line: the device, the bundle profile, each model's artifact and the enhancement mode."""
        chosen = ", ".join(f"{name} {a.format}/{a.precision}" for name, a in self.pipeline.artifacts.items())
        return f"device {self.device.name}, profile {self.bundle_profile}: {chosen}; enhance {self.pipeline.enhance}"

    def check_lines(self) -> list[str]:
        """What the start-up check found, as lines for the user (empty when it did not run)."""
        if self.check is None:
            return []
        lines = [f"warning: start-up check: {line}" for line in self.problems]
        if self.check.checks and not self.problems:
            ties = sum(c.near_ties for c in self.check.checks)
            lines.append(
                f"start-up check: {len(self.check.checks)} models match their FP32 references on {self.check.frames} frames"
                + (f" ({ties} FP32 near-tie decision(s) not counted)" if ties else "")
                + ("; passed on this machine with these engines before (cached; --recheck runs it again)"
                   if self.check_cached else "")
            )
        lines += [f"start-up check skipped: {line}" for line in self.check.skipped]
        return lines


def trust_store_for(trust: Trust | None = ()) -> TrustStore | None:
    """The trust store to apply: a given store as is, key paths as explicit keys, else the configured one."""
    if isinstance(trust, TrustStore):
        return trust
    return resolve_trust_store(tuple(trust or ()))


def open_verified(bundle: Path, trust: Trust | None = ()) -> tuple[Manifest, TrustStore | None]:
    """The bundle's manifest with every pinned file verified, and the trust store that was applied."""
    store = trust_store_for(trust)
    return open_bundle(Path(bundle), trust=store), store


def resolve_device(
    device: str | DeviceProfile,
    manifest: Manifest | None = None,
    precision: str | None = None,
    threads: int | None = None,
    dla: int | None = None,
    openvino_hint: str | None = None,
) -> DeviceProfile:
    """The device profile to run: a name checked against this machine (``auto`` fits ``manifest``), options applied."""
    return resolve_device_choice(device, manifest, precision, threads, dla, openvino_hint)[0]


def resolve_device_choice(
    device: str | DeviceProfile,
    manifest: Manifest | None = None,
    precision: str | None = None,
    threads: int | None = None,
    dla: int | None = None,
    openvino_hint: str | None = None,
) -> tuple[DeviceProfile, str]:
    """``resolve_device`` and the reason for the profile (``auto`` says why it picked it)."""
    from echosr_edge.devices.detect import choose_device

    if isinstance(device, DeviceProfile):
        profile, reason = device, f"given as the {device.name} profile"
    else:
        choice = choose_device(device, manifest, precision)
        profile, reason = choice.profile, choice.reason
    if dla is not None:
        if "tensorrt" not in profile.formats:
            raise OptionError(f"--dla needs a TensorRT device (jetson or cuda), not {profile.name!r}")
        profile = profile.with_options("tensorrt", dla_core=dla)
    if threads:
        profile = replace(profile, threads=threads)
    if openvino_hint and "openvino" in profile.formats:
        profile = profile.with_options("openvino", performance_hint=openvino_hint.upper())
    return profile, reason


def open_session(
    bundle: Path,
    device: str | DeviceProfile = "auto",
    *,
    precision: str | None = None,
    bundle_profile: str = "default",
    trust: Trust | None = (),
    threads: int | None = None,
    enhance: str = "auto",
    crop: bool = True,
    dla: int | None = None,
    openvino_hint: str | None = None,
    startup_check: bool = True,
    strict: bool = False,
    manifest: Manifest | None = None,
    engines=None,
    recheck: bool = False,
    abstain: bool = True,
) -> Session:
    """Open ``bundle`` for running on ``device``: verify, choose artifacts, open engines, check them.

    ``trust``: explicit public keys (paths) or a TrustStore; by default the configured store.
    ``manifest``: a manifest the caller already verified with this function's ``open_verified``
    (batch workers get the parent's), so files are not hashed twice.
    ``strict`` refuses a start-up check outside the bundle's budgets (VerificationFailed).
    ``engines``: an ``engine_build.EnginePolicy``: on jetson/cuda, build the TensorRT engines
    missing from the device's cache before the pipeline opens (or refuse); without it a missing
    engine stops the opening with the command that builds it.
    ``abstain``: refuse frames that are not a cardiac view or too uncertain (docs/abstention.md).
    A start-up check that passed on this machine with the same engines is reused from the per-user
    cache (``runtime.checks.cached_check``); ``recheck`` runs it regardless.
    """
    if enhance not in ENHANCE_MODES:
        raise EchoSRError(f"enhance must be one of {', '.join(ENHANCE_MODES)}, not {enhance!r}")
    bundle = Path(bundle)
    store = trust_store_for(trust)
    asked = device if isinstance(device, str) and device != "auto" else None
    if manifest is None:
        # A named device is checked before the bundle is hashed: "TensorRT is missing" is the first thing to fix.
        if not isinstance(device, DeviceProfile) and device != "auto":
            device = resolve_device(device)
        manifest = open_bundle(bundle, trust=store, defer_artifacts=True)  # each model file is hashed as it loads
    profile_manifest = manifest.for_profile(bundle_profile)  # an unknown profile is refused before any engine loads
    profile, reason = resolve_device_choice(device, profile_manifest, precision, threads, dla, openvino_hint)
    reason = f"asked for with --device {asked}" if asked else reason
    if engines is not None and "tensorrt" in profile.formats:
        from echosr_edge.runtime.engine_build import prepare_device_engines

        if engines.cache_dir is not None:
            profile = profile.with_options("tensorrt", engine_cache=engines.cache_dir)
        prepare_device_engines(bundle, profile_manifest, profile, precision, engines)
    pipeline = load_pipeline(bundle, profile, precision, enhance, manifest, SectorCropper() if crop else None, bundle_profile,
                             abstain=abstain)
    session = Session(bundle, manifest, bundle_profile, profile, pipeline, store, notes=list(pipeline.notes),
                      device_reason=reason)
    if startup_check:
        session.check, session.check_cached = cached_check(bundle, manifest, pipeline, profile, recheck)
        session.problems = enforce(session.check, strict)
    log.info("%s", session.describe())
    return session
