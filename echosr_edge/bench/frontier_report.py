"""The frontier's findings in plain words, and its table as text, Markdown, JSON and a PNG."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from echosr_edge.bench.report import markdown_table

log = logging.getLogger(__name__)

PSNR_MARGIN_DB = 0.3  # a student "keeps" the teacher's fidelity within this
# SR rows that are not students: the SRResNet family (teacher, SRGAN generator), bicubic, no SR.
NOT_STUDENTS = ("srresnet", "msrresnet", "opencv", "-")


def _within(value: float, acc: dict) -> bool:
    return acc["ci_low"] - 1e-12 <= value <= acc["ci_high"] + 1e-12


def findings(report) -> list[str]:
    """Per format/precision: each student against the teacher (PSNR margin, accuracy in the teacher's
    CI) and against bicubic (does the floor match it on downstream accuracy?)."""
    out: list[str] = []
    groups: dict[tuple[str, str], list] = {}
    for row in report.rows:
        groups.setdefault((row.format, row.precision), []).append(row)
    teacher_name = report.teacher.split(" ")[0]
    for (fmt, precision), rows in groups.items():
        by_name = {r.model: r for r in rows}
        teacher, bicubic = by_name.get(teacher_name), by_name.get("bicubic")
        for row in rows:
            if row.arch in NOT_STUDENTS:
                continue
            where = f"{fmt} {precision}"
            if teacher is not None and teacher.psnr_vs_hr is not None and row.psnr_vs_hr is not None:
                gap = teacher.psnr_vs_hr - row.psnr_vs_hr
                verdict = "within" if gap <= PSNR_MARGIN_DB else "NOT within"
                out.append(f"{where}: {row.label} PSNR vs HR {row.psnr_vs_hr:.2f} dB, teacher {teacher.psnr_vs_hr:.2f} dB "
                           f"(gap {gap:+.2f} dB): {verdict} {PSNR_MARGIN_DB} dB of the teacher.")
            for task, acc in row.accuracy.items():
                if teacher is not None and task in teacher.accuracy:
                    t = teacher.accuracy[task]
                    verdict = "inside" if _within(acc["accuracy"], t) else "OUTSIDE"
                    out.append(f"{where}: {row.label} {task} accuracy on SR-poor frames {acc['accuracy']:.1%} is {verdict} the "
                               f"teacher's 95% CI [{t['ci_low']:.1%}, {t['ci_high']:.1%}] (teacher {t['accuracy']:.1%}, n={t['n']}).")
                if bicubic is not None and task in bicubic.accuracy:
                    b = bicubic.accuracy[task]
                    if _within(b["accuracy"], acc):
                        out.append(f"{where}: bicubic matches {row.label} on downstream {task} accuracy "
                                   f"({b['accuracy']:.1%} vs {acc['accuracy']:.1%}, inside the student's 95% CI): "
                                   "on this data the student's SR buys no measurable accuracy over interpolation.")
                    else:
                        better = "above" if acc["accuracy"] > b["accuracy"] else "below"
                        out.append(f"{where}: {row.label} {task} accuracy {acc['accuracy']:.1%} is {better} bicubic's "
                                   f"{b['accuracy']:.1%}, outside the student's 95% CI.")
    return out


def _f(value, spec: str, empty: str = "—") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return empty
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    return format(value, spec)


def table_rows(report) -> list[list[str]]:
    """Header + one row per frontier row."""
    tasks = sorted({t for r in report.rows for t in r.accuracy})
    header = ["SR", "format", "precision", "MAC/LR px", "GMAC/frame", "SR ms", "ms/frame", "fps",
              "PSNR vs HR", "SSIM vs HR", "PSNR vs teacher", "SSIM vs teacher"] + [f"{t} acc (95% CI)" for t in tasks]
    header += ["coverage"] + [f"{t} selective acc" for t in tasks]
    rows = [header]
    for r in report.rows:
        accs = []
        for t in tasks:
            a = r.accuracy.get(t)
            accs.append(f"{a['accuracy']:.1%} [{a['ci_low']:.1%}, {a['ci_high']:.1%}]" if a else "—")
        rows.append([r.label, r.format, r.precision, _f(r.macs_per_lr_pixel, ",.0f"), _f(r.gmac_per_frame, ".3f"),
                     _f(r.sr_ms_p50, ".2f"), _f(r.ms_per_frame, ".2f"), _f(r.fps, ".1f"), _f(r.psnr_vs_hr, ".2f"),
                     _f(r.ssim_vs_hr, ".4f"), _f(r.psnr_vs_teacher, ".2f"), _f(r.ssim_vs_teacher, ".4f")] + accs
                    + [_f(r.coverage, ".1%")] + [_f((r.accuracy.get(t) or {}).get("selective_accuracy"), ".1%") for t in tasks])
    return rows


def format_table(report) -> str:
    """The frontier table as aligned text."""
    rows = table_rows(report)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_markdown(report) -> str:
    """The frontier as a Markdown document: setting, table, findings."""
    m, d = report.machine, report.data
    clfs = ", ".join(f"{n} at {s} px" for n, s in report.classifiers.items())
    lines = [
        "# echosr-edge speed/accuracy frontier",
        "",
        f"- bundle: `{report.bundle}`; HR {report.hr_size}, SR x{report.scale} (LR {report.hr_size // report.scale})",
        f"- machine: {m['cpu']}, {m['cores']} cores, SIMD: {' '.join(m['simd']) or 'none detected'}",
        f"- teacher: {report.teacher}; classifiers ({report.classifier_profile} profile, the same in every row): {clfs}",
        f"- fidelity: {d['good_frames']} held-out good frames (PSNR/SSIM of SR(bicubic ↓x) against x, and against the teacher)",
        f"- accuracy: {d['poor_frames']} poor frames ({d['poor_selection']}), SR at test time only (Fig. 4 b/d); "
        f"{report.ci_method}",
        f"- latency: {report.runs} timed frames after {report.warmup} warm-up, batch 1, the whole pipeline "
        "(pre-process, SR, classifiers); SR ms is the SR stage alone",
        f"- data: `{d['source']}`",
        "",
    ]
    table = table_rows(report)
    lines += markdown_table(table)
    lines += ["", "## Findings", ""] + [f"- {f}" for f in report.findings or ["(no student in the bundle)"]]
    return "\n".join(lines) + "\n"


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else "inf"
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def write_frontier(report, out_dir: Path) -> list[Path]:
    """frontier.json, frontier.md and (with matplotlib) frontier.png in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "frontier.json", out_dir / "frontier.md"
    json_path.write_text(json.dumps(_clean(report.to_dict()), indent=2) + "\n")
    md_path.write_text(report_markdown(report))
    paths = [json_path, md_path]
    png = write_plot(report, out_dir / "frontier.png")
    return paths + ([png] if png else [])


def write_plot(report, path: Path) -> Path | None:
    """Accuracy (mean over tasks, with CIs) and PSNR against end-to-end latency; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: the frontier has no figure")
        return None
    fig, (ax_acc, ax_psnr) = plt.subplots(1, 2, figsize=(12, 4.5))
    markers = {"fp32": "o", "fp16": "s", "int8": "^"}
    for r in report.rows:
        if r.ms_per_frame is None:
            continue
        name = f"{r.label} {r.format} {r.precision}"
        marker = markers.get(r.precision, "o")
        for task, a in r.accuracy.items():
            ax_acc.errorbar(r.ms_per_frame, a["accuracy"] * 100,
                            yerr=[[(a["accuracy"] - a["ci_low"]) * 100], [(a["ci_high"] - a["accuracy"]) * 100]],
                            fmt=marker, capsize=3, alpha=0.8, color="C0" if task == "view" else "C1")
            ax_acc.annotate(f"{r.model} {r.precision}", (r.ms_per_frame, a["accuracy"] * 100), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        if r.psnr_vs_hr is not None:
            ax_psnr.scatter(r.ms_per_frame, r.psnr_vs_hr, marker=marker)
            ax_psnr.annotate(name, (r.ms_per_frame, r.psnr_vs_hr), fontsize=7, xytext=(3, 3), textcoords="offset points")
    for ax in (ax_acc, ax_psnr):
        ax.set_xscale("log")
        ax.set_xlabel("end-to-end ms per frame (p50, log scale)")
        ax.axvline(1000 / 30, color="grey", linestyle=":", linewidth=1)
    ax_acc.set_ylabel("accuracy on SR-poor frames (%)")
    ax_acc.set_title("test-time SR on poor frames: view (blue), phase (orange), 95% CI", fontsize=9)
    ax_psnr.set_ylabel("PSNR vs HR (dB)")
    ax_psnr.set_title("fidelity on held-out good frames", fontsize=9)
    m = report.machine
    fig.suptitle(f"frontier: {m['cpu']}, {m['cores']} cores ({' '.join(m['simd'])}); dotted line = 33 ms (30 fps)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
