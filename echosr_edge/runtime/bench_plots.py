"""Bench figures: a latency histogram per target and accuracy against latency (matplotlib, optional)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def write_plots(report, out_dir: Path) -> list[Path]:
    """bench_latency.png, bench_accuracy.png and bench_roofline.png in ``out_dir``; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: the bench report has no figures")
        return []
    rows = [r for r in report.rows if r.latencies_ms]
    if not rows:
        return []
    out_dir = Path(out_dir)
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in rows:
        ax.hist(r.latencies_ms, bins=30, alpha=0.55, label=f"{r.format} {r.precision}")
    ax.set_xlabel("end-to-end latency per frame (ms)")
    ax.set_ylabel("frames")
    ax.set_title(f"{report.machine['cpu']}, {report.machine['cores']} cores")
    ax.legend(fontsize=8)
    fig.tight_layout()
    latency = out_dir / "bench_latency.png"
    fig.savefig(latency, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in rows:
        if r.accuracy:
            acc = sum(r.accuracy.values()) / len(r.accuracy) * 100
            ax.scatter(r.stages["total"].p50, acc, s=40)
            ax.annotate(f"{r.format} {r.precision}", (r.stages["total"].p50, acc), fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("end-to-end p50 latency (ms)")
    ax.set_ylabel("mean classifier accuracy (%)")
    ax.set_title("accuracy against latency")
    fig.tight_layout()
    accuracy = out_dir / "bench_accuracy.png"
    fig.savefig(accuracy, dpi=110)
    plt.close(fig)
    paths = [latency, accuracy]
    limited = [r for r in rows if r.limits]
    if limited:
        paths.append(_limits_plot(plt, limited, out_dir / "bench_roofline.png"))
    return paths


def _limits_plot(plt, rows, path: Path) -> Path:
    """Per stage and target: % of the measured ceiling (left) and in-pipeline over alone (right)."""
    stages = sorted({s["stage"] for r in rows for s in r.limits})
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        by_stage = {s["stage"]: s for s in r.limits}
        xs = [j + i * width for j in range(len(stages))]
        left.bar(xs, [(by_stage.get(st) or {}).get("pct_of_ceiling") or 0 for st in stages], width, label=f"{r.format} {r.precision}")
        right.bar(xs, [(by_stage.get(st) or {}).get("pipeline_over_alone") or 0 for st in stages], width)
    for ax, label in ((left, "% of the measured ceiling"), (right, "p50 in pipeline / engine alone")):
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(stages))], [st.removeprefix("classify_") for st in stages])
        ax.set_ylabel(label)
    right.axhline(1.1, color="grey", linestyle="--", linewidth=1)
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
