"""Bench: per-stage latency and fidelity against FP32 for each precision a bundle holds."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.bundle.integrity import open_bundle
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.metrics import mean_psnr
from echosr_edge.runtime.pipeline import load_pipeline


@dataclass
class StageStats:
    """Latency of one stage in milliseconds."""

    min: float
    p50: float
    p95: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: list[float]) -> "StageStats":
        a = np.asarray(values, dtype=np.float64)
        return cls(
            float(a.min()), float(np.percentile(a, 50)), float(np.percentile(a, 95)), float(a.max()), float(a.mean())
        )


@dataclass
class BenchRow:
    """One backend × precision: latency per stage, throughput, fidelity against FP32."""

    format: str
    precision: str
    stages: dict[str, StageStats]
    fps: float
    model_bytes: int
    sr_psnr_vs_fp32: float | None = None
    agreement_vs_fp32: dict[str, float] = field(default_factory=dict)
    accuracy: dict[str, float] = field(default_factory=dict)


@dataclass
class BenchReport:
    """A bench run: where it ran, on what, and one row per backend × precision."""

    bundle: str
    machine: dict
    frames: int
    runs: int
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


def bench_bundle(
    bundle_dir: Path,
    device: DeviceProfile,
    frames: np.ndarray | None = None,
    labels: dict[str, list[str]] | None = None,
    runs: int = 20,
    warmup: int = 3,
    precisions: tuple[str, ...] = ("fp32", "int8"),
    on_row: Callable[[BenchRow], None] | None = None,
) -> BenchReport:
    """Bench every precision in ``precisions`` that the bundle holds for ``device``'s format.

    ``frames`` is N×H×W uint8 (default: the bundle's verification frames, with their labels).
    Each timed run processes one frame through the whole pipeline; FP32 outputs are the
    reference for the fidelity columns.
    """
    bundle_dir = Path(bundle_dir)
    manifest = open_bundle(bundle_dir)
    if frames is None:
        ver = manifest.verification_frames
        if not ver:
            raise ValueError("the bundle has no verification frames; pass frames to bench")
        frames = np.load(bundle_dir / ver["file"], allow_pickle=False)
        labels = ver.get("labels")
    if len(frames) == 0:
        raise ValueError("no frames to bench on")
    rows: list[BenchRow] = []
    reference: dict | None = None
    for precision in precisions:
        if not all(m.artifact(device.format, precision) for m in manifest.models):
            continue
        pipeline = load_pipeline(bundle_dir, device, precision=precision, manifest=manifest)
        for i in range(warmup):
            pipeline.process(frames[i % len(frames)])
        timings: dict[str, list[float]] = {}
        for i in range(runs):
            result = pipeline.process(frames[i % len(frames)])
            for stage, ms in result.timings_ms.items():
                timings.setdefault(stage, []).append(ms)
        outputs = [pipeline.process(f) for f in frames]
        enhanced = np.stack([o.enhanced for o in outputs])
        predicted = {c.name: [o.labels[c.name] for o in outputs] for c in pipeline.classifiers}
        size = sum((bundle_dir / m.artifact(device.format, precision).file).stat().st_size for m in manifest.models)
        stages = {k: StageStats.of(v) for k, v in timings.items()}
        row = BenchRow(device.format, precision, stages, 1000.0 / stages["total"].mean, size)
        if labels:
            row.accuracy = {
                task: float(np.mean([p == t for p, t in zip(predicted[task], labels[task])]))
                for task in predicted
                if task in labels
            }
        if reference is None:
            reference = {"enhanced": enhanced, "predicted": predicted}
        else:
            if pipeline.sr is not None:
                row.sr_psnr_vs_fp32 = mean_psnr(reference["enhanced"], enhanced)
            row.agreement_vs_fp32 = {
                task: float(np.mean([a == b for a, b in zip(reference["predicted"][task], predicted[task])]))
                for task in predicted
            }
        rows.append(row)
        if on_row:
            on_row(row)
    if not rows:
        raise ValueError(f"the bundle has no {device.format} artifacts at {', '.join(precisions)}")
    return BenchReport(str(bundle_dir), machine_info(), len(frames), runs, rows)


def report_markdown(report: BenchReport) -> str:
    """The bench report as a Markdown document."""
    m = report.machine
    lines = [
        "# echosr-edge bench",
        "",
        f"- bundle: `{report.bundle}`",
        f"- machine: {m['cpu']}, {m['cores']} cores, SIMD: {' '.join(m['simd']) or 'none detected'}",
        f"- {report.runs} timed runs over {report.frames} frames, batch 1",
        "",
        "| format | precision | size MB | preprocess p50 ms | SR p50 ms | classify p50 ms | total p50 ms | total p95 ms | fps | SR PSNR vs FP32 dB | agreement vs FP32 | accuracy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        psnr = "—" if r.sr_psnr_vs_fp32 is None else f"{r.sr_psnr_vs_fp32:.2f}"
        agree = ", ".join(f"{k} {v:.1%}" for k, v in r.agreement_vs_fp32.items()) or "reference"
        acc = ", ".join(f"{k} {v:.1%}" for k, v in r.accuracy.items()) or "—"
        s = r.stages
        lines.append(
            f"| {r.format} | {r.precision} | {r.model_bytes / 1e6:.2f} | {s['preprocess'].p50:.2f} | "
            f"{s['sr'].p50:.2f} | {s['classify'].p50:.2f} | {s['total'].p50:.2f} | {s['total'].p95:.2f} | "
            f"{r.fps:.1f} | {psnr} | {agree} | {acc} |"
        )
    fp32 = next((r for r in report.rows if r.precision == "fp32"), None)
    if fp32:
        lines.append("")
        for r in report.rows:
            if r is not fp32:
                ratio = fp32.stages["total"].p50 / r.stages["total"].p50
                lines.append(f"- {r.format} {r.precision} end-to-end p50 speed-up over {fp32.format} fp32: {ratio:.2f}×")
    return "\n".join(lines) + "\n"


def write_report(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """Write bench.json and bench.md into ``out_dir``; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    md_path.write_text(report_markdown(report))
    return json_path, md_path


