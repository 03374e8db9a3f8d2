"""Start-up check: the bundle's verification frames through the chosen engines, against FP32 references.

The exporter stores, per model, the FP32 model's outputs on ``verification/frames.npy``
(N×H×W uint8 at hr_size): for SR, SR(bicubic ↓scale(frame)) as N×1×H×W; for a classifier,
the logits of the frame resized to its input size (un-enhanced). Running the same inputs
through the engines this device loaded shows, before the first patient frame, whether this
backend, precision and machine reproduce the model within the bundle's budgets.

Classifier agreement leaves out near-ties: frames where the FP32 model's own probability for
the engine's pick is within ``TIE_MARGIN`` of its top class. The verification frames are
stored as uint8, so a decision the FP32 model made by a hair (0.501 against 0.499) can flip on
input rounding alone, on any backend; counting it would fail an exact FP32 engine.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from echosr_edge.bundle.budgets import Budgets
from echosr_edge.bundle.manifest import Manifest
from echosr_edge.data.preprocess import bicubic_down, resize_unit
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.errors import EchoSRError
from echosr_edge.metrics import mean_psnr
from echosr_edge.runtime.engine import Engine, run_single
from echosr_edge.runtime.pipeline import Pipeline, softmax

TIE_MARGIN = 0.02  # in probability


@dataclass(frozen=True)
class ModelCheck:
    """One model's engine against its FP32 reference."""

    model: str
    format: str
    precision: str
    metric: str  # "psnr_vs_fp32_db" or "agreement_vs_fp32"
    value: float
    budget: float
    passed: bool
    near_ties: int = 0  # classifier frames left out of the agreement (see TIE_MARGIN)

    def describe(self) -> str:
        unit = " dB" if self.metric.startswith("psnr") else ""
        verdict = "ok" if self.passed else "OUTSIDE BUDGET"
        ties = f", {self.near_ties} near-tie frame(s) not counted" if self.near_ties else ""
        return (
            f"{self.model} ({self.format}/{self.precision}): {self.metric} {self.value:.4g}{unit} "
            f"(budget {self.budget:g}{unit}{ties}) {verdict}"
        )


@dataclass(frozen=True)
class StartupCheck:
    """The start-up check: one row per model that has a reference, and what could not be checked."""

    frames: int
    checks: tuple[ModelCheck, ...]
    skipped: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[ModelCheck]:
        return [c for c in self.checks if not c.passed]


class VerificationFailed(EchoSRError):
    """The engines disagree with the FP32 references beyond the bundle's budgets (with --strict)."""


def check_engines(bundle_dir: Path, manifest: Manifest, pipeline: Pipeline) -> StartupCheck:
    """Run the verification frames through ``pipeline``'s engines and compare with the FP32 references.

    Checksums were verified when the bundle was opened, so the references are the exporter's.
    """
    bundle_dir = Path(bundle_dir)
    ver = manifest.verification_frames
    if not ver:
        return StartupCheck(0, (), ("the bundle has no verification frames",))
    frames = np.load(bundle_dir / ver["file"], allow_pickle=False)
    checks, skipped = [], []
    for name, engine in pipeline.engines.items():
        art = pipeline.artifacts[name]
        result = check_model(bundle_dir, manifest, name, engine, art.format, art.precision, frames, pipeline.scale)
        if isinstance(result, str):
            skipped.append(result)
        else:
            checks.append(result)
    return StartupCheck(len(frames), tuple(checks), tuple(skipped))


def verification_frames(bundle_dir: Path, manifest: Manifest) -> np.ndarray | None:
    """The bundle's verification frames (N×H×W uint8), or None when it has none."""
    ver = manifest.verification_frames
    return np.load(Path(bundle_dir) / ver["file"], allow_pickle=False) if ver else None


def check_model(
    bundle_dir: Path, manifest: Manifest, name: str, engine: Engine, format: str, precision: str,
    frames: np.ndarray, default_scale: int = 4,
) -> ModelCheck | str:
    """One model's engine on the verification ``frames`` (N×H×W uint8) against its FP32 reference;
    a string saying why when it cannot be checked."""
    entry = manifest.model(name)
    if not entry.reference:
        return f"{name}: no FP32 reference in the bundle"
    reference = np.load(Path(bundle_dir) / entry.reference["file"], allow_pickle=False)
    if len(reference) != len(frames):
        return f"{name}: {len(reference)} reference outputs for {len(frames)} frames"
    hr = [f.astype(np.float32) / 255.0 for f in frames]
    budgets = Budgets.from_notes(manifest.notes)
    sr_budget, clf_budget = budgets.sr_min_psnr_db, budgets.classifier_min_agreement
    if entry.role == "sr":
        scale = int(entry.scale or default_scale)
        outputs = np.concatenate([run_single(engine, bicubic_down(x, scale)[None, None]) for x in hr])
        value = mean_psnr(np.clip(reference, 0, 1), np.clip(outputs, 0, 1))
        return ModelCheck(name, format, precision, "psnr_vs_fp32_db", value, sr_budget, value >= sr_budget)
    size = int(entry.preprocessing["input_size"])
    logits = np.concatenate([run_single(engine, resize_unit(x, size)[None, None]) for x in hr])
    value, ties = classifier_agreement(reference, logits)
    return ModelCheck(name, format, precision, "agreement_vs_fp32", value, clf_budget, value >= clf_budget, ties)


def classifier_agreement(reference_logits: np.ndarray, logits: np.ndarray, margin: float = TIE_MARGIN) -> tuple[float, int]:
    """Top-1 agreement of N×K ``logits`` with the FP32 ``reference_logits``, and the near-ties left out."""
    ref_probs = softmax(reference_logits)
    ref_top, got = reference_logits.argmax(1), logits.argmax(1)
    rows = np.arange(len(got))
    near_tie = (got != ref_top) & (ref_probs[rows, ref_top] - ref_probs[rows, got] < margin)
    counted = ~near_tie
    if not counted.any():
        return 1.0, int(near_tie.sum())
    return float(np.mean(got[counted] == ref_top[counted])), int(near_tie.sum())


def enforce(check: StartupCheck, strict: bool) -> list[str]:
    """Warnings for the checks outside budget; with ``strict`` they refuse to run instead."""
    problems = [c.describe() for c in check.failures]
    if problems and strict:
        raise VerificationFailed("start-up check failed (--strict): " + "; ".join(problems))
    return problems


def check_key(bundle_dir: Path, pipeline: Pipeline, device: DeviceProfile) -> str:
    """What a start-up check's verdict depends on: the manifest, the engines chosen, backend, threads, CPU."""
    import platform
    import sys

    backends = {m: getattr(sys.modules.get(m), "__version__", None) for m in ("onnxruntime", "openvino", "tensorrt")}
    cpu = ""
    try:
        cpu = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    parts = {
        "manifest": hashlib.sha256((Path(bundle_dir) / "manifest.json").read_bytes()).hexdigest(),
        "artifacts": sorted((name, a.format, a.precision, a.sha256) for name, a in pipeline.artifacts.items()),
        "backends": backends,
        "device": [device.name, device.threads, {k: device.engine_options.get(k) for k in sorted(device.engine_options)}],
        "machine": [platform.machine(), platform.processor(), cpu],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


def cached_check(
    bundle_dir: Path, manifest: Manifest, pipeline: Pipeline, device: DeviceProfile, recheck: bool = False
) -> tuple[StartupCheck, bool]:
    """The start-up check, or the verdict a passing check gave on this machine with the same engines.

    A check is a pure function of the bundle, the engines, the backend version and the CPU
    (``check_key``), so after it passed once it is read from the per-user cache (the second start
    skips it, as OpenVINO skips compiling); a failed check is never cached. Returns (check, cached).
    """
    from echosr_edge.runtime.user_cache import cache_folder

    folder = None if recheck else cache_folder("checks")
    path = folder / f"{check_key(bundle_dir, pipeline, device)}.json" if folder else None
    if path is not None and path.is_file():
        try:
            d = json.loads(path.read_text())
            return StartupCheck(d["frames"], tuple(ModelCheck(**c) for c in d["checks"]), tuple(d["skipped"])), True
        except (ValueError, KeyError, TypeError):
            pass  # a damaged entry: check again
    check = check_engines(bundle_dir, manifest, pipeline)
    folder = folder or (cache_folder("checks") if recheck else None)
    if folder is not None and check.passed and check.checks:
        target = folder / f"{check_key(bundle_dir, pipeline, device)}.json"
        tmp = target.with_suffix(".partial")
        tmp.write_text(json.dumps(asdict(check)))
        os.replace(tmp, target)
    return check, False
