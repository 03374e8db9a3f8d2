"""The experiment report: Markdown beside the paper's numbers, and PNG figures (matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path

from echosr_edge.data.records import QUALITIES
from echosr_edge.data.tasks import TASKS
from echosr_edge.train.paper_results import FIG4_STATED, SR_EXAMPLE, TABLE1, TABLE2


def _pct(cell: dict) -> str:
    mean, half = cell["mean"] * 100, cell["half_width"] * 100
    if math.isnan(mean):
        return "—"
    return f"{mean:.1f}" if math.isnan(half) else f"{mean:.1f} ± {half:.1f}"


def _pts(cell: dict) -> str:
    mean, half = cell["mean"], cell["half_width"]
    if math.isnan(mean):
        return "—"
    return f"{mean:+.1f}" if math.isnan(half) else f"{mean:+.1f} ± {half:.1f}"


def report_markdown(results: dict) -> str:
    """results.json → report.md text."""
    cfg = results["config"]
    clf, sr, gan = cfg["schedule"]["classifier"], cfg["schedule"]["sr"], cfg["schedule"]["srgan"]
    lines = [
        f"# Experiments — config `{cfg['name']}`",
        "",
        f"- data: `{results['data']['root']}` ({results['data']['release']} release, {results['data']['frames']} frames)",
        f"- split: **{results['split']['unit']}-level** {int((1 - results['split']['test_fraction']) * 100)}/"
        f"{int(results['split']['test_fraction'] * 100)}, seeds {cfg['seeds']} (splits in `{results['split']['file']}`)",
        f"- SR fine-tuning data: {cfg['sr_data']}; enhanced(x) = SR(bicubic ↓{cfg['scale']}(x)) at {cfg['hr_size']}²",
        f"- classifier: ResNet-18 at {cfg['classifier_size']}², {clf['epochs']} epochs, batch {clf['batch']}, "
        f"Adam {clf['lr']:g}; ImageNet weights: {'yes' if results['imagenet_weights'] else 'no (random init)'}",
        f"- SRResNet: {sr['epochs']} epochs, Adam {sr['lr']:g}, start {sr['init']}; SRGAN: {gan['epochs']} epochs",
        f"- accuracies are mean ± 95% CI half-width over {len(cfg['seeds'])} seed(s), in %; wall time {results['seconds']:.0f} s",
        "",
        "## Table 1 — frames by view, phase and quality (ours | paper)",
        "",
        "| view | phase | good | medium | poor | total |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["data"]["table1"]:
        paper = TABLE1.get((row["view"], row["phase"]))
        cells = [f"{row[q]} \\| {paper[q]}" if paper else str(row[q]) for q in QUALITIES]
        total = f"{row['total']} \\| {sum(paper.values())}" if paper else str(row["total"])
        lines.append(f"| {row['view']} | {row['phase']} | {' | '.join(cells)} | {total} |")
    lines += ["", "## SR fidelity", "", "| model | held-out good vs HR: PSNR dB | SSIM | poor frames vs themselves: PSNR dB | SSIM |", "|---|---|---|---|---|"]
    for kind, fid in results["sr_fidelity"].items():
        g, p = fid["held_out_good_vs_hr"], fid["poor_vs_self"]
        lines.append(f"| {kind} | {g['psnr']:.2f} | {g['ssim']:.4f} | {p['psnr']:.2f} | {p['ssim']:.4f} |")
    lines.append("")
    lines.append(
        f"Paper, one poor 2CH ED example: SRResNet {SR_EXAMPLE['srresnet']['psnr']} dB / {SR_EXAMPLE['srresnet']['ssim']}, "
        f"SRGAN {SR_EXAMPLE['srgan']['psnr']} dB / {SR_EXAMPLE['srgan']['ssim']}."
    )
    for task in TASKS:
        lines += ["", f"## Table 2 — {task} accuracy (%) before SR (ours | paper)", "", "| train \\ test | good | medium | poor |", "|---|---|---|---|"]
        for a in QUALITIES:
            cells = [f"{_pct(results['table2'][task][a][b])} \\| {TABLE2[(a, b)][task]}" for b in QUALITIES]
            lines.append(f"| {a} | {' | '.join(cells)} |")
    panels = {("view", "train_on_sr_poor"): "a", ("view", "test_on_sr_poor"): "b", ("phase", "train_on_sr_poor"): "c", ("phase", "test_on_sr_poor"): "d"}
    for (task, setting), letter in panels.items():
        title = "train on SR-enhanced poor, test on each tier" if setting == "train_on_sr_poor" else "classifier trained on each tier, tested on SR-enhanced poor"
        lines += ["", f"## Fig. 4 ({letter}) — {task}: {title}", ""]
        lines += ["| SR model | tier | before % | after % | improvement (points) | improvement (relative %) |", "|---|---|---|---|---|---|"]
        for kind, data in results["fig4"][task].items():
            for tier, cell in data[setting].items():
                lines.append(
                    f"| {kind} | {'test ' if setting == 'train_on_sr_poor' else 'train '}{tier} | {_pct(cell['before'])} | {_pct(cell['after'])} | "
                    f"{_pts(cell['improvement_points'])} | {_pts(cell['improvement_relative_percent'])} |"
                )
    lines += ["", "The paper's stated Fig. 4 averages (it does not say whether points or relative change):", ""]
    lines += [f"- {s}" for s in FIG4_STATED]
    lines += ["", "Figures: `table2_view.png`, `table2_phase.png`, `fig4.png`."]
    return "\n".join(lines) + "\n"


def write_figures(results: dict, out: Path) -> list[Path]:
    """Quality-matrix heat maps (Table 2) and Fig. 4-style bars; returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out)
    paths = []
    for task in TASKS:
        grid = np.array([[results["table2"][task][a][b]["mean"] * 100 for b in QUALITIES] for a in QUALITIES])
        fig, ax = plt.subplots(figsize=(4.2, 3.6))
        im = ax.imshow(grid, vmin=40, vmax=100, cmap="viridis")
        ax.set_xticks(range(3), QUALITIES)
        ax.set_yticks(range(3), QUALITIES)
        ax.set_xlabel("test tier")
        ax.set_ylabel("train tier")
        ax.set_title(f"{task} accuracy (%), mean over seeds")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", color="w" if grid[i, j] < 75 else "k")
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        path = out / f"table2_{task}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharey=True)
    layout = [("view", "train_on_sr_poor", "a"), ("view", "test_on_sr_poor", "b"), ("phase", "train_on_sr_poor", "c"), ("phase", "test_on_sr_poor", "d")]
    for ax, (task, setting, letter) in zip(axes.ravel(), layout):
        kinds = list(results["fig4"][task])
        width = 0.8 / max(1, len(kinds))
        for k, kind in enumerate(kinds):
            cells = results["fig4"][task][kind][setting]
            means = [cells[t]["improvement_points"]["mean"] for t in QUALITIES]
            errs = [0 if math.isnan(cells[t]["improvement_points"]["half_width"]) else cells[t]["improvement_points"]["half_width"] for t in QUALITIES]
            ax.bar(np.arange(3) + k * width, means, width, yerr=errs, capsize=3, label=kind)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks(np.arange(3) + width * (len(kinds) - 1) / 2, [("test " if setting == "train_on_sr_poor" else "train ") + t for t in QUALITIES])
        ax.set_title(f"({letter}) {task}: {'train' if setting == 'train_on_sr_poor' else 'test'} on SR-poor")
        ax.set_ylabel("improvement (points)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "fig4.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths


def write_report(results: dict, out: Path) -> Path:
    """Write report.md and the figures into ``out``; returns the report path."""
    out = Path(out)
    write_figures(results, out)
    path = out / "report.md"
    path.write_text(report_markdown(results))
    return path
