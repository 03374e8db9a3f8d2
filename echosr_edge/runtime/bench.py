"""Bench: latency per stage, throughput, memory and fidelity of every backend × precision a bundle
holds and this machine runs, measured side by side in one process.

Each target is a whole pipeline (pre-process → SR → classifiers) built on one backend and
precision. Every timed run processes one frame, batch 1. The reference for the fidelity columns
is the PyTorch FP32 model when a torch target is given (the export's ground truth), otherwise the
first FP32 target. SR fidelity compares enhanced frames (SR(bicubic ↓(x))) with the reference's
and with the HR frame x itself; classifiers compare predicted labels.
"""

from __future__ import annotations

import json
import os
import platform
import resource
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.bundle.manifest import Manifest
from echosr_edge.bundle.vocabulary import PRECISIONS
from echosr_edge.devices.profiles import DeviceProfile, planned_engine
from echosr_edge.errors import BundleError, ConfigError
from echosr_edge.metrics import mean_psnr, ssim
from echosr_edge.runtime.pipeline import Pipeline, load_pipeline

STAGES = ("preprocess", "sr", "classify", "total")


@dataclass
class StageStats:
    """Latency of one stage in milliseconds."""

    min: float
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: list[float]) -> "StageStats":
        a = np.asarray(values, dtype=np.float64)
        p50, p95, p99 = np.percentile(a, [50, 95, 99])
        return cls(float(a.min()), float(p50), float(p95), float(p99), float(a.max()), float(a.mean()))


@dataclass(frozen=True)
class BenchTarget:
    """A pipeline to bench: its backend format and precision, how to build it, its model bytes."""

    format: str
    precision: str
    build: Callable[[], Pipeline]
    model_bytes: int
    device: str = ""
    profile: DeviceProfile | None = None  # its engine options and threads, for the ceiling (None: no ceiling)
    macs: dict = field(default_factory=dict)  # the manifest's notes["macs"]: model name → {"total": ...}

    @property
    def label(self) -> str:
        return f"{self.format} {self.precision}"


@dataclass
class BenchRow:
    """One backend × precision: latency per stage, throughput, memory, fidelity against the reference."""

    format: str
    precision: str
    device: str
    status: str
    stages: dict[str, StageStats] = field(default_factory=dict)
    fps: float = 0.0
    model_bytes: int = 0
    rss_mb: float = 0.0
    sr_psnr_vs_fp32: float | None = None
    sr_ssim_vs_fp32: float | None = None
    sr_psnr_vs_hr: float | None = None
    agreement_vs_fp32: dict[str, float] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)
    accuracy_delta: dict[str, float] = field(default_factory=dict)
    speedup_vs_torch: float | None = None
    latencies_ms: list[float] = field(default_factory=list)
    provenance: dict | None = None  # runtime/provenance.py's block of the pipeline this row ran (enhance: always)
    ceiling: dict | None = None  # runtime.roofline.Ceiling as a dict
    limits: list[dict] = field(default_factory=list)  # runtime.roofline.StageLimit per stage, as dicts

    @property
    def worst_over_alone(self) -> tuple[str, float] | None:
        """The stage slowed most by running inside the pipeline, and by how much."""
        if not self.limits:
            return None
        worst = max(self.limits, key=lambda s: s["pipeline_over_alone"])
        return worst["stage"], worst["pipeline_over_alone"]


@dataclass
class BenchReport:
    """A bench run: where it ran, on what, and one row per backend × precision."""

    bundle: str
    machine: dict
    frames: int
    runs: int
    warmup: int
    threads: int | None
    reference: str
    rows: list[BenchRow]

    def to_dict(self) -> dict:
        return asdict(self)


def machine_info() -> dict:
    """CPU model, SIMD flags that matter for inference, core count: every speed figure carries it."""
    model, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("unknown", "", platform.processor()):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags]
    return {"cpu": model, "simd": simd, "cores": os.cpu_count(), "python": platform.python_version()}


def current_rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _model_bytes(bundle_dir: Path, manifest: Manifest, pipeline: Pipeline) -> int:
    total = 0
    for art in pipeline.artifacts.values():
        total += (bundle_dir / art.file).stat().st_size
        total += sum(int(c["size"]) for c in art.companions)
    return total


def bundle_targets(
    bundle_dir: Path,
    manifest: Manifest,
    devices: list[DeviceProfile],
    precisions: tuple[str, ...] = PRECISIONS,
    profile: str = "default",
) -> list[BenchTarget]:
    """A target for each (format, precision) that ``devices`` run and every bench model of ``profile`` has."""
    manifest = manifest.for_profile(profile)
    models = [m for m in manifest.models if m.task != "quality"]
    targets, seen = [], set()
    for device in devices:
        for fmt in device.formats:
            for precision in precisions:
                arts = [_artifact_for(device, m, fmt, precision) for m in models]
                if (fmt, precision) in seen or not all(arts):
                    continue
                seen.add((fmt, precision))
                profile = device.with_formats((fmt,))
                size = sum(a.size + sum(int(c["size"]) for c in a.companions) for a in arts)

                def build(profile=profile, precision=precision) -> Pipeline:
                    return load_pipeline(bundle_dir, profile, precision=precision, enhance="always", manifest=manifest)

                targets.append(BenchTarget(fmt, precision, build, size, device.name, profile, manifest.notes.get("macs", {})))
    return targets


def _artifact_for(device: DeviceProfile, entry, fmt: str, precision: str):
    """The bundle's artifact, or for TensorRT on a device that builds its engines, the planned engine
    (its size is the ONNX's; the engine itself comes from the engine cache)."""
    art = entry.artifact(fmt, precision)
    if art is None and fmt == "tensorrt" and device.builds_engines:
        try:
            return planned_engine(entry, precision)
        except BundleError:
            return None
    return art


def _run_target(target: BenchTarget, frames: np.ndarray, runs: int, warmup: int) -> tuple[BenchRow, list]:
    row = BenchRow(target.format, target.precision, target.device, "ok", model_bytes=target.model_bytes)
    try:
        pipeline = target.build()
    except Exception as exc:  # a backend that cannot load is a row with its reason, not a crash
        row.status = f"failed: {exc}"
        return row, []
    row.provenance = getattr(pipeline, "provenance", None)
    for i in range(warmup):
        pipeline.process(frames[i % len(frames)])
    timings: dict[str, list[float]] = {}
    for i in range(runs):
        result = pipeline.process(frames[i % len(frames)])
        for stage, ms in result.timings_ms.items():
            timings.setdefault(stage, []).append(ms)
    row.rss_mb = current_rss_mb()
    row.stages = {k: StageStats.of(v) for k, v in timings.items() if k in STAGES}
    row.latencies_ms = [round(v, 3) for v in timings["total"]]
    row.fps = 1000.0 / row.stages["total"].mean
    from echosr_edge.runtime.roofline import target_limits

    row.ceiling, row.limits = target_limits(target.format, target.precision, target.profile, pipeline, timings,
                                            target.macs, max(5, runs // 2))
    outputs = [pipeline.process(f) for f in frames]
    del pipeline
    return row, outputs


def _fidelity(row: BenchRow, outputs: list, reference: list | None, hr: np.ndarray, labels: dict | None) -> None:
    enhanced = np.stack([o.enhanced for o in outputs])
    row.sr_psnr_vs_hr = mean_psnr(hr, enhanced)
    tasks = list(outputs[0].labels)
    if labels:
        for task in tasks:
            if task in labels:
                row.accuracy[task] = float(np.mean([o.labels[task] == t for o, t in zip(outputs, labels[task])]))
    if reference is None:
        return
    ref_enhanced = np.stack([o.enhanced for o in reference])
    row.sr_psnr_vs_fp32 = mean_psnr(ref_enhanced, enhanced)
    row.sr_ssim_vs_fp32 = float(np.mean([ssim(r, e) for r, e in zip(ref_enhanced, enhanced)]))
    for task in tasks:
        row.agreement_vs_fp32[task] = float(np.mean([a.labels[task] == b.labels[task] for a, b in zip(reference, outputs)]))
        if labels and task in labels:
            ref_acc = float(np.mean([o.labels[task] == t for o, t in zip(reference, labels[task])]))
            row.accuracy_delta[task] = row.accuracy[task] - ref_acc


def bench_targets(
    targets: list[BenchTarget],
    frames: np.ndarray,
    labels: dict[str, list[str]] | None = None,
    runs: int = 20,
    warmup: int = 3,
    torch_target: BenchTarget | None = None,
    on_row: Callable[[BenchRow], None] | None = None,
    bundle: str = "",
    threads: int | None = None,
) -> BenchReport:
    """Bench every target on ``frames`` (N×H×W uint8 at the bundle's HR size), side by side."""
    if len(frames) == 0:
        raise ConfigError("no frames to bench on")
    all_targets = ([torch_target] if torch_target else []) + list(targets)
    if not all_targets:
        raise BundleError("nothing to bench: no backend of this machine runs any precision of the bundle")
    hr = np.stack([f.astype(np.float32) / 255.0 for f in frames])
    rows: list[BenchRow] = []
    reference_outputs, reference_label = None, "none"
    for target in all_targets:
        row, outputs = _run_target(target, frames, runs, warmup)
        if outputs:
            is_reference = reference_outputs is None and target.precision == "fp32"
            _fidelity(row, outputs, None if is_reference else reference_outputs, hr, labels)
            if is_reference:
                reference_outputs, reference_label = outputs, target.label
        rows.append(row)
        if on_row:
            on_row(row)
    base = rows[0] if torch_target and rows[0].stages else None
    for row in rows:
        if base and row.stages:
            row.speedup_vs_torch = base.stages["total"].p50 / row.stages["total"].p50
    return BenchReport(bundle, machine_info(), len(frames), runs, warmup, threads, reference_label, rows)


def load_frames(bundle_dir: Path, manifest: Manifest) -> tuple[np.ndarray, dict | None]:
    """The bundle's verification frames (N×H×W uint8 at the HR size) and their labels."""
    ver = manifest.verification_frames
    if not ver:
        raise BundleError("the bundle has no verification frames; bench with --data ROOT")
    return np.load(Path(bundle_dir) / ver["file"], allow_pickle=False), ver.get("labels")


def bench_bundle(
    bundle_dir: Path,
    device: DeviceProfile,
    frames: np.ndarray | None = None,
    labels: dict[str, list[str]] | None = None,
    runs: int = 20,
    warmup: int = 3,
    precisions: tuple[str, ...] = PRECISIONS,
    on_row: Callable[[BenchRow], None] | None = None,
    devices: list[DeviceProfile] | None = None,
    torch_target: BenchTarget | None = None,
    trust=(),
) -> BenchReport:
    """Bench every precision the bundle holds for ``device`` (and ``devices``), plus ``torch_target``.

    ``frames`` default to the bundle's verification frames, with their labels. ``trust``: key
    paths or a TrustStore; by default the configured device trust store.
    """
    bundle_dir = Path(bundle_dir)
    from echosr_edge.runtime.session import open_verified

    manifest, _ = open_verified(bundle_dir, trust)
    if frames is None:
        frames, labels = load_frames(bundle_dir, manifest)
    targets = bundle_targets(bundle_dir, manifest, [device] + list(devices or []), precisions)
    return bench_targets(
        targets, frames, labels, runs, warmup, torch_target, on_row, bundle=str(bundle_dir), threads=device.threads
    )


def _fmt(value: float | None, spec: str, empty: str = "—") -> str:
    return empty if value is None else format(value, spec)


def report_table(report: BenchReport) -> list[list[str]]:
    """Header + one row per target: the Ultralytics-style summary."""
    header = ["format", "precision", "status", "size MB", "SR PSNR vs FP32 dB", "agreement vs FP32",
              "accuracy", "p50 ms", "p95 ms", "fps", "speed-up vs PyTorch", "worst stage vs alone", "% of ceiling"]
    rows = [header]
    for r in report.rows:
        agree = ", ".join(f"{k} {v:.1%}" for k, v in r.agreement_vs_fp32.items()) or ("reference" if r.stages else "—")
        acc = ", ".join(f"{k} {v:.1%}" for k, v in r.accuracy.items()) or "—"
        total = r.stages.get("total")
        worst = r.worst_over_alone
        ceiling = ", ".join(f"{s['stage'].removeprefix('classify_')} {s['pct_of_ceiling']:.0f}%"
                            for s in r.limits if s["pct_of_ceiling"] is not None) or "—"
        rows.append([
            r.format, r.precision, r.status, f"{r.model_bytes / 1e6:.2f}", _fmt(r.sr_psnr_vs_fp32, ".2f"), agree, acc,
            _fmt(total.p50 if total else None, ".2f"), _fmt(total.p95 if total else None, ".2f"),
            _fmt(r.fps if total else None, ".1f"), _fmt(r.speedup_vs_torch, ".2f", "—") + ("×" if r.speedup_vs_torch else ""),
            f"{worst[1]:.2f}× {worst[0].removeprefix('classify_')}" if worst else "—", ceiling,
        ])
    return rows


def format_table(report: BenchReport) -> str:
    """The summary table as aligned text for a terminal."""
    rows = report_table(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_markdown(report: BenchReport) -> str:
    """The bench report as a Markdown document."""
    m = report.machine
    lines = [
        "# echosr-edge bench",
        "",
        f"- bundle: `{report.bundle}`",
        f"- machine: {m['cpu']}, {m['cores']} cores, SIMD: {' '.join(m['simd']) or 'none detected'}",
        f"- {report.runs} timed runs after {report.warmup} warm-up over {report.frames} frames, batch 1, "
        f"threads per engine: {report.threads or 'all'}",
        f"- fidelity reference: {report.reference}",
        "",
    ]
    table = report_table(report)
    lines.append("| " + " | ".join(table[0]) + " |")
    lines.append("|" + "---|" * len(table[0]))
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    lines += ["", "## Latency per stage (ms)", "", "| target | stage | min | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|---|"]
    for r in report.rows:
        for stage, s in r.stages.items():
            lines.append(f"| {r.format} {r.precision} | {stage} | {s.min:.2f} | {s.p50:.2f} | {s.p95:.2f} | {s.p99:.2f} | {s.max:.2f} |")
    lines += ["", "## Memory and SR fidelity", "", "| target | RSS MB after its runs | SR PSNR vs HR dB | SR SSIM vs FP32 | accuracy delta vs reference |", "|---|---|---|---|---|"]
    for r in report.rows:
        delta = ", ".join(f"{k} {v * 100:+.1f} pts" for k, v in r.accuracy_delta.items()) or "—"
        lines.append(f"| {r.format} {r.precision} | {r.rss_mb:.0f} | {_fmt(r.sr_psnr_vs_hr, '.2f')} | {_fmt(r.sr_ssim_vs_fp32, '.4f')} | {delta} |")
    from echosr_edge.runtime.roofline import limits_markdown

    lines += limits_markdown(report.rows)
    return "\n".join(lines) + "\n"


def write_report(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """Write bench.json and bench.md (and PNG plots when matplotlib is installed) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    md_path.write_text(report_markdown(report))
    from echosr_edge.runtime.bench_plots import write_plots

    write_plots(report, out_dir)
    return json_path, md_path
