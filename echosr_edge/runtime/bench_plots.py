"""Bench figures: a latency histogram per target and accuracy against latency (matplotlib, optional)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def write_plots(report, out_dir: Path) -> list[Path]:
    """bench_latency.png and bench_accuracy.png in ``out_dir``; none when matplotlib is absent."""
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
    return [latency, accuracy]
