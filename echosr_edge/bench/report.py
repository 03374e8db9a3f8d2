"""The bench report: the Ultralytics-style table, bench.md and bench.json (plots in ``bench.plots``)."""

from __future__ import annotations

import json
from pathlib import Path

from echosr_edge.bench.runner import BenchReport


def markdown_table(table: list[list[str]]) -> list[str]:
    """A header row and data rows as the lines of a Markdown table."""
    header, *rows = table
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _fmt(value: float | None, spec: str, empty: str = "—") -> str:
    return empty if value is None else format(value, spec)


def report_table(report: BenchReport) -> list[list[str]]:
    """Header + one row per target: the Ultralytics-style summary."""
    header = ["format", "precision", "status", "size MB", "SR PSNR vs FP32 dB", "agreement vs FP32",
              "accuracy", "coverage", "selective accuracy", "p50 ms", "p95 ms", "fps", "speed-up vs PyTorch", "worst stage vs alone", "% of ceiling"]
    rows = [header]
    for r in report.rows:
        agree = ", ".join(f"{k} {v:.1%}" for k, v in r.agreement_vs_fp32.items()) or ("reference" if r.stages else "—")
        acc = ", ".join(f"{k} {v:.1%}" for k, v in r.accuracy.items()) or "—"
        selective = ", ".join(f"{k} {v:.1%}" for k, v in r.selective_accuracy.items()) or "—"
        total = r.stages.get("total")
        worst = r.worst_over_alone
        ceiling = ", ".join(f"{s['stage'].removeprefix('classify_')} {s['pct_of_ceiling']:.0f}%"
                            for s in r.limits if s["pct_of_ceiling"] is not None) or "—"
        rows.append([
            r.format, r.precision, r.status, f"{r.model_bytes / 1e6:.2f}", _fmt(r.sr_psnr_vs_fp32, ".2f"), agree, acc,
            _fmt(r.coverage, ".1%"), selective,
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
    lines += markdown_table(table)
    lines += ["", "## Latency per stage (ms)", "", "| target | stage | min | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|---|"]
    for r in report.rows:
        for stage, s in r.stages.items():
            lines.append(f"| {r.format} {r.precision} | {stage} | {s.min:.2f} | {s.p50:.2f} | {s.p95:.2f} | {s.p99:.2f} | {s.max:.2f} |")
    lines += ["", "## Memory and SR fidelity", "", "| target | RSS MB after its runs | SR PSNR vs HR dB | SR SSIM vs FP32 | accuracy delta vs reference |", "|---|---|---|---|---|"]
    for r in report.rows:
        delta = ", ".join(f"{k} {v * 100:+.1f} pts" for k, v in r.accuracy_delta.items()) or "—"
        lines.append(f"| {r.format} {r.precision} | {r.rss_mb:.0f} | {_fmt(r.sr_psnr_vs_hr, '.2f')} | {_fmt(r.sr_ssim_vs_fp32, '.4f')} | {delta} |")
    from echosr_edge.bench.roofline import limits_markdown

    lines += limits_markdown(report.rows)
    return "\n".join(lines) + "\n"


def write_report(report: BenchReport, out_dir: Path) -> tuple[Path, Path]:
    """Write bench.json and bench.md (and PNG plots when matplotlib is installed) into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    md_path.write_text(report_markdown(report))
    from echosr_edge.bench.plots import write_plots

    write_plots(report, out_dir)
    return json_path, md_path
