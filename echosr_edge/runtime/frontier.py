"""The speed/accuracy frontier: every SR model of a bundle (and bicubic, and no SR) side by side.

For each (format, precision) this machine runs, each row is the real pipeline (pre-process → SR
→ the chosen profile's classifiers) with one SR swapped in, measured in one process:

- MACs per LR pixel and per frame (counted at export, manifest notes["macs"]; bicubic is the
  separable 4+4-tap cubic: 8 multiply-adds per output pixel);
- ms per frame and fps end to end (batch 1, ``runs`` timed frames after ``warmup``);
- PSNR/SSIM of SR(bicubic ↓(x)) against the HR frame x and against the teacher's FP32 output,
  on held-out good frames;
- downstream accuracy when SR is applied to poor frames at test time only (the study's Fig. 4
  b/d setting: the classifiers never saw enhanced frames), with a Wilson 95% interval over frames.

Torch-free: everything runs through the runtime's engines.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from echosr_edge.bundle.manifest import Manifest, ModelEntry, TensorSpec
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.errors import BundleError
from echosr_edge.metrics import psnr
from echosr_edge.runtime.bench import machine_info
from echosr_edge.runtime.engine import Engine, open_artifact
from echosr_edge.runtime.pipeline import Classifier, Pipeline

BICUBIC_MACS_PER_HR_PIXEL = 8  # separable cubic: 4 taps across, 4 down
CI_METHOD = "Wilson score interval, 95%, over frames"


class BicubicEngine:
    """Bicubic ×scale (OpenCV INTER_CUBIC) behind the engine interface: the frontier's floor."""

    def __init__(self, scale: int):
        self.scale = scale
        self.inputs = [TensorSpec("input", (1, 1, None, None))]
        self.outputs = [TensorSpec("output", (1, 1, None, None))]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(feeds["input"][0, 0])
        up = cv2.resize(x, (x.shape[1] * self.scale, x.shape[0] * self.scale), interpolation=cv2.INTER_CUBIC)
        return {"output": up[None, None]}


@dataclass(frozen=True)
class FrontierData:
    """Held-out frames at the bundle's HR size (N×H×W uint8): good ones for fidelity, poor ones with labels."""

    good: np.ndarray
    poor: np.ndarray
    poor_labels: dict[str, list[str]]
    source: str
    poor_selection: str  # "held-out patients" or "every poor frame"


def frontier_data(root: Path, hr_size: int, test_fraction: float = 0.2, seed: int = 0, poor: str = "held-out",
                  max_good: int | None = None) -> FrontierData:
    """Frames of the CAMUS tree ``root`` split by patient as training split them (``split_patients``).

    ``poor='all'`` takes every poor frame: honest when the SR models and classifiers trained on
    good frames only (nothing ever trained on a poor frame), and it narrows the intervals.
    """
    from echosr_edge.data.camus import read_camus
    from echosr_edge.data.preprocess import resize_unit
    from echosr_edge.data.splits import split_patients

    if poor not in ("held-out", "all"):
        raise ValueError("poor must be 'held-out' or 'all'")
    frames = read_camus(root).frames
    if not frames:
        raise BundleError(f"{root}: no readable CAMUS frames")
    _, test = split_patients(frames, test_fraction, seed)
    good = [f for f in test if f.quality == "good"][:max_good]
    poor_frames = [f for f in (frames if poor == "all" else test) if f.quality == "poor"]
    if not good or not poor_frames:
        raise BundleError(f"{root}: the frontier needs held-out good frames and poor frames "
                          f"(found {len(good)} good, {len(poor_frames)} poor); use more patients")

    def stack(fs):
        return np.stack([(resize_unit(f.image, hr_size) * 255.0 + 0.5).astype(np.uint8) for f in fs])

    labels = {task: [f.label(task) for f in poor_frames] for task in ("view", "phase")}
    return FrontierData(stack(good), stack(poor_frames), labels, str(root),
                        "every poor frame" if poor == "all" else "held-out patients")


def wilson(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct``/``n``."""
    if n == 0:
        return math.nan, math.nan
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class FrontierRow:
    """One SR choice at one format/precision, through the whole pipeline."""

    model: str  # bundle model name, or "bicubic" / "none"
    arch: str
    format: str
    precision: str
    status: str = "ok"
    classifier_precision: str = ""
    macs_per_lr_pixel: float | None = None
    gmac_per_frame: float | None = None
    sr_ms_p50: float | None = None
    ms_per_frame: float | None = None  # end-to-end p50
    ms_p95: float | None = None
    fps: float | None = None
    psnr_vs_hr: float | None = None
    ssim_vs_hr: float | None = None
    psnr_vs_teacher: float | None = None
    ssim_vs_teacher: float | None = None
    accuracy: dict[str, dict] = field(default_factory=dict)  # task → accuracy, ci_low, ci_high, correct, n

    @property
    def label(self) -> str:
        return self.model if self.model in ("bicubic", "none") else f"{self.model} ({self.arch})"


@dataclass
class FrontierReport:
    """A frontier run: machine, data, classifiers, rows, and the plain-words findings."""

    bundle: str
    machine: dict
    teacher: str
    classifier_profile: str
    classifiers: dict[str, int]  # name → input size
    hr_size: int
    scale: int
    data: dict
    runs: int
    warmup: int
    ci_method: str
    rows: list[FrontierRow]
    findings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _mean_ssim(refs: list[np.ndarray], outs: list[np.ndarray]) -> float:
    from echosr_edge.metrics import ssim

    return float(np.mean([ssim(r, o) for r, o in zip(refs, outs)]))


def _macs(manifest: Manifest, name: str, hr_size: int, scale: int) -> tuple[float | None, float | None]:
    """(MACs per LR pixel, GMAC per frame) of an SR choice: 'none', 'bicubic' or a bundle model."""
    if name == "none":
        return 0.0, 0.0
    if name == "bicubic":
        return float(BICUBIC_MACS_PER_HR_PIXEL * scale * scale), BICUBIC_MACS_PER_HR_PIXEL * hr_size * hr_size / 1e9
    m = manifest.notes.get("macs", {}).get(name)
    return (float(m["per_input_pixel"]), m["total"] / 1e9) if m else (None, None)


def _measure(row: FrontierRow, pipeline: Pipeline, data: FrontierData, teacher_out: list | None, runs: int, warmup: int) -> list:
    good = [f.astype(np.float32) / 255.0 for f in data.good]
    for i in range(warmup):
        pipeline.process(data.good[i % len(data.good)])
    totals, srs = [], []
    for i in range(runs):
        t = pipeline.process(data.good[i % len(data.good)]).timings_ms
        totals.append(t["total"])
        srs.append(t["sr"])
    row.ms_per_frame, row.ms_p95 = (float(v) for v in np.percentile(totals, [50, 95]))
    row.sr_ms_p50 = float(np.percentile(srs, 50))
    row.fps = 1000.0 / row.ms_per_frame
    applied = pipeline.sr is not None
    enhanced = [pipeline.enhance_hr(x) if applied else x for x in good]
    row.psnr_vs_hr = float(np.mean([psnr(h, e) for h, e in zip(good, enhanced)])) if applied else None
    row.ssim_vs_hr = _mean_ssim(good, enhanced) if applied else None
    if teacher_out is not None and applied:
        row.psnr_vs_teacher = float(np.mean([psnr(t, e) for t, e in zip(teacher_out, enhanced)]))
        row.ssim_vs_teacher = _mean_ssim(teacher_out, enhanced)
    predictions: dict[str, list[str]] = {c.name: [] for c in pipeline.classifiers}
    for frame in data.poor:
        x = frame.astype(np.float32) / 255.0
        labels, _, _ = pipeline.classify(pipeline.enhance_hr(x) if applied else x)
        for name, label in labels.items():
            predictions[name].append(label)
    for clf in pipeline.classifiers:
        task = next((t for t in data.poor_labels if t == clf.name or clf.name.startswith(f"{t}_")), None)
        if task is None:
            continue
        truth = data.poor_labels[task]
        correct = int(sum(p == t for p, t in zip(predictions[clf.name], truth)))
        lo, hi = wilson(correct, len(truth))
        row.accuracy[task] = {"accuracy": correct / len(truth), "ci_low": lo, "ci_high": hi, "correct": correct, "n": len(truth)}
    return enhanced


def run_frontier(
    bundle_dir: Path,
    devices: list[DeviceProfile],
    data: FrontierData,
    precisions: tuple[str, ...] = ("fp32", "int8"),
    runs: int = 30,
    warmup: int = 3,
    classifier_profile: str | None = None,
    manifest: Manifest | None = None,
    on_row: Callable[[FrontierRow], None] | None = None,
) -> FrontierReport:
    """Measure bicubic, no SR and every SR model of the bundle at each format × precision ``devices`` run.

    The classifiers are those of ``classifier_profile`` (default: "realtime" when the bundle has
    it, else "default"), the same for every row, so rows differ only in their SR.
    """
    from echosr_edge.runtime.frontier_report import findings

    bundle_dir = Path(bundle_dir)
    if manifest is None:
        from echosr_edge.runtime.session import open_verified

        manifest, _ = open_verified(bundle_dir)
    profile_name = classifier_profile or ("realtime" if "realtime" in manifest.profile_names else "default")
    clf_entries = [m for m in manifest.for_profile(profile_name).classifiers() if m.task != "quality"]
    if not clf_entries:
        raise BundleError(f"{bundle_dir}: profile {profile_name!r} has no view/phase classifier")
    teacher = manifest.for_profile("default").sr_model()
    if teacher is None:
        raise BundleError(f"{bundle_dir}: the default profile has no SR model to compare students with")
    sr_entries = [teacher] + [m for m in manifest.models if m.role == "sr" and m.name != teacher.name]
    hr_size, scale = int(teacher.preprocessing["hr_size"]), int(teacher.scale)
    rows: list[FrontierRow] = []

    def emit(row: FrontierRow) -> None:
        rows.append(row)
        if on_row:
            on_row(row)

    teacher_out, teacher_ref = _teacher_outputs(bundle_dir, teacher, devices, data, hr_size, scale)
    seen = set()
    for device in devices:
        for fmt in device.formats:
            one = device.with_formats((fmt,))
            for precision in precisions:
                if (fmt, precision) in seen or not all(m.artifact(fmt, precision) for m in clf_entries):
                    continue
                seen.add((fmt, precision))
                classifiers = [
                    Classifier(m.name, open_artifact(bundle_dir, m.artifact(fmt, precision), one), m.labels,
                               int(m.preprocessing["input_size"]))
                    for m in clf_entries
                ]
                choices: list[tuple[str, str, Engine | None, ModelEntry | None]] = [
                    ("none", "-", None, None), ("bicubic", "opencv", BicubicEngine(scale), None)]
                for entry in sr_entries:
                    art = entry.artifact(fmt, precision)
                    if art is not None:
                        choices.append((entry.name, entry.arch, open_artifact(bundle_dir, art, one), entry))
                for name, arch, engine, entry in choices:
                    row = FrontierRow(name, arch, fmt, precision, classifier_precision=precision)
                    row.macs_per_lr_pixel, row.gmac_per_frame = _macs(manifest, name, hr_size, scale)
                    pipeline = Pipeline(hr_size, scale, engine, classifiers, "always" if engine else "never")
                    _measure(row, pipeline, data, teacher_out, runs, warmup)
                    emit(row)
    if not rows:
        raise BundleError(f"{bundle_dir}: no format × precision of the bundle's classifiers runs on "
                          f"{', '.join(d.name for d in devices)}")
    report = FrontierReport(
        bundle=str(bundle_dir), machine=machine_info(), teacher=f"{teacher.name} ({teacher.arch}; reference {teacher_ref})", classifier_profile=profile_name,
        classifiers={m.name: int(m.preprocessing["input_size"]) for m in clf_entries}, hr_size=hr_size, scale=scale,
        data={"source": data.source, "good_frames": len(data.good), "poor_frames": len(data.poor),
              "poor_selection": data.poor_selection},
        runs=runs, warmup=warmup, ci_method=CI_METHOD, rows=rows,
    )
    report.findings = findings(report)
    return report


def _teacher_outputs(bundle_dir: Path, teacher: ModelEntry, devices: list[DeviceProfile], data: FrontierData,
                     hr_size: int, scale: int) -> tuple[list[np.ndarray] | None, str]:
    """The teacher's FP32 enhanced good frames on the first format that has it, and which artifact."""
    for device in devices:
        for fmt in device.formats:
            art = teacher.artifact(fmt, "fp32")
            if art is not None:
                engine = open_artifact(bundle_dir, art, device.with_formats((fmt,)))
                pipeline = Pipeline(hr_size, scale, engine, [], "always")
                return [pipeline.enhance_hr(f.astype(np.float32) / 255.0) for f in data.good], f"{fmt}/fp32"
    return None, "none (no FP32 teacher artifact runs here)"
