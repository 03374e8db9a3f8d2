"""The experiment report: Markdown beside the paper's numbers, and PNG figures (matplotlib)."""

from __future__ import annotations

import math
from pathlib import Path

from echosr_edge.data.records import QUALITIES
from echosr_edge.data.tasks import TASKS
from echosr_edge.train.experiment_config import MIN_REPEATS_DIFFERENT
from echosr_edge.train.gated import forest_entries, gated_markdown
from echosr_edge.train.paper_results import FIG4_STATED, SR_EXAMPLE, TABLE1, TABLE2

SETTING_TITLES = {
    "test_time": "classifier trained on plain frames of each tier, tested on poor frames through each arm (Fig. 4 b/d)",
    "train_on_enhanced": "classifier trained on poor frames through each arm, tested on each tier (Fig. 4 a/c)",
}
LETTERS = {("view", "train_on_enhanced"): "a", ("view", "test_time"): "b", ("phase", "train_on_enhanced"): "c", ("phase", "test_time"): "d"}


def _acc(cell: dict) -> str:
    if cell["n"] == 0 or math.isnan(cell["accuracy"]):
        return "—"
    return f"{cell['accuracy'] * 100:.1f} [{cell['ci_low'] * 100:.1f}, {cell['ci_high'] * 100:.1f}]"


def _diff(c: dict) -> str:
    if math.isnan(c["points"]):
        return "—"
    return f"{c['points']:+.1f} [{c['ci_low']:+.1f}, {c['ci_high']:+.1f}]"


def _family(c: dict) -> str:
    if math.isnan(c.get("ci_family_low", math.nan)):
        return "—"
    return f"[{c['ci_family_low']:+.1f}, {c['ci_family_high']:+.1f}]"


def _p_holm(c: dict) -> str:
    p = c["mcnemar"].get("p_holm")
    return "—" if p is None else f"{p:.3f}"


def _per_repeat(c: dict) -> str:
    return " / ".join(f"{v:+.1f}" for v in c.get("per_repeat", [])) or "—"


def _marked(c: dict) -> str:
    """The difference, marked † when it is not evidence (two different classifiers, too few repeats)."""
    return _diff(c) + ("" if c.get("evidence", True) else " †")


def _intervals_line(repeats: int) -> str:
    if repeats > 1:
        return (f"- **the intervals resample test patients and the {repeats} repeats** (training runs: every classifier and SR "
                "model is retrained in each repeat on a new fold split with new seeds), crossed, so the spread between "
                "training runs is in them; `per repeat` gives each repeat's own difference. A difference between two "
                f"*different* classifiers (train on enhanced, the augmented competitor) is read as evidence from "
                f"{MIN_REPEATS_DIFFERENT} repeats on; with fewer it is marked †.")
    return ("- **the intervals resample test patients, not training runs**: each classifier and SR model is trained once per "
            "fold (1 repeat here), so the spread between training seeds is not in them. It matters most where two "
            "*different* classifiers are compared (train on enhanced, the augmented competitor; marked †, not evidence): on "
            "the 100-patient negative control, four seeds of one view classifier trained on poor frames scored 56–100 % on "
            f"good frames. Run `--repeats {MIN_REPEATS_DIFFERENT}` or more to put the training runs in the intervals.")


def _header(results: dict) -> list[str]:
    cfg = results["config"]
    clf, sr, gan = cfg["schedule"]["classifier"], cfg["schedule"]["sr"], cfg["schedule"]["srgan"]
    lines = [f"# Experiments — config `{cfg['name']}`", "", "## Deviations from the paper", ""]
    lines += [f"- {d}" for d in results["deviations"]] or ["- none"]
    lines += [
        "",
        "## Settings",
        "",
        (f"- data: `{results['data']['root']}` ({results['data']['release']} release, {results['data']['patients']} patients, "
         f"{results['data']['frames']} frames)"),
        f"- protocol: patient-grouped {cfg['folds']}-fold cross-validation × {cfg['repeats']} repeat(s); every poor frame of the "
        "task sets is tested once per repeat; SR fine-tuned per fold on the fold's training-side good frames"
        + (" (here: every good frame, `--sr-data all`)" if cfg["sr_data"] == "all" else ""),
        (f"- arms: {', '.join(results['arms'])}; enhancement mode `{cfg['enhance_mode']}` at HR {cfg['hr_size']}², ×{cfg['scale']}"
         + (f" (↓ by `{cfg.get('downsample', 'bicubic')}`)" if cfg["enhance_mode"] == "down-up" else "") + "; "
         f"classifier input {cfg['classifier_size']}²"),
        f"- classifier: ResNet-18, {clf['epochs']} epochs"
        + (f" and at least {clf['min_steps']} optimiser steps" if clf.get("min_steps") else "")
        + f", batch {clf['batch']}, Adam {clf['lr']:g}; "
        f"SRResNet {sr['epochs']} epochs; SRGAN {gan['epochs']} epochs"
        + (", started from the fold's fine-tuned SRResNet" if cfg["srgan_from_srresnet"] else ""),
        (f"- accuracies in %, pooled over repeats and folds, with 95 % bootstrap intervals ({cfg['bootstrap']} resamples); "
         f"cells: {results['cells']['computed']} computed, {results['cells']['skipped']} reused; wall time {results['seconds']:.0f} s"),
        _intervals_line(cfg["repeats"]),
        f"- power: the smallest paired difference this design detects with 80 % power at two-sided α = 0.05 is "
        f"**{results['power']['mdd_points_median']:.1f} points** (median over comparisons; range "
        + (" to ".join(f"{v:.1f}" for v in results["power"]["mdd_points_range"]) or "—")
        + "). Smaller true differences are likely to go undetected"
        + ("; the paper's +1.3 / +3.7-point test-time phase gains are below it." if results["power"]["mdd_points_median"] > 3.7 else "."),
        "- per-frame predictions: `predictions.csv`",
    ]
    return lines


def _learning(results: dict) -> list[str]:
    learning = results.get("learning")
    if not learning:
        return []
    lines = ["", "## Did the classifiers learn? (Table 2's diagonal against chance)", ""]
    failed = [(task, tier) for task, tiers in learning.items() for tier, c in tiers.items() if not c["learned"]]
    if failed:
        lines.append(f"**Not evidence:** {len(failed)} of {sum(len(t) for t in learning.values())} classifiers are not above chance "
                     "on plain frames of their own tier (" + ", ".join(f"{task} trained on {tier}" for task, tier in failed)
                     + "). A classifier at chance answers by its class prior, so a paired difference measured through it says "
                     "nothing about an arm; more patients, epochs or ImageNet weights (`--imagenet-weights`) are needed.")
        lines.append("")
    for task, tiers in learning.items():
        cells = ", ".join(f"{tier} {c['accuracy'] * 100:.1f} % [{c['ci_low'] * 100:.1f}, {c['ci_high'] * 100:.1f}]"
                          + ("" if c["learned"] else " (at chance)") for tier, c in tiers.items())
        lines.append(f"- {task} (chance {next(iter(tiers.values()))['chance'] * 100:.0f} %): {cells}")
    for task, arms in results.get("learning_enhanced", {}).items():
        idle = [arm for arm, c in arms.items() if not c["learned"]]
        lines.append(f"- {task}, trained on poor frames through an arm (Fig. 4 a/c), tested on poor through the same arm: "
                     + (f"at chance through {', '.join(idle)}" if idle else "every arm above chance"))
    return lines


def report_markdown(results: dict) -> str:
    """results.json → report.md text."""
    lines = _header(results)
    lines += _learning(results)
    lines += ["", "## Table 1 — frames by view, phase and quality (ours | paper)", "", "| view | phase | good | medium | poor | total |",
              "|---|---|---|---|---|---|"]
    for row in results["data"]["table1"]:
        paper = TABLE1.get((row["view"], row["phase"]))
        cells = [f"{row[q]} \\| {paper[q]}" if paper else str(row[q]) for q in QUALITIES]
        total = f"{row['total']} \\| {sum(paper.values())}" if paper else str(row["total"])
        lines.append(f"| {row['view']} | {row['phase']} | {' | '.join(cells)} | {total} |")
    lines += ["", "## SR fidelity on good frames (PSNR dB / SSIM)", "",
              "| arm | whole frame | inside the sector | centre patch | frames | reference | frames are |", "|---|---|---|---|---|---|---|"]
    for arm, f in results["sr_fidelity"].items():
        lines.append(f"| {arm} | {f['psnr']:.2f} / {f['ssim']:.4f} | {f['psnr_sector']:.2f} / {f['ssim_sector']:.4f} | "
                     f"{f['psnr_patch']:.2f} / {f['ssim_patch']:.4f} | {f['frames']} | {f['reference']} | {f['frames_are']} |")
    lines += ["", (f"Paper, one poor 2CH ED example (patch): SRResNet {SR_EXAMPLE['srresnet']['psnr']} dB / {SR_EXAMPLE['srresnet']['ssim']}, "
                   f"SRGAN {SR_EXAMPLE['srgan']['psnr']} dB / {SR_EXAMPLE['srgan']['ssim']}.")]
    for task in TASKS:
        lines += ["", f"## Table 2 — {task} accuracy (%) before enhancement (ours [95 % CI] | paper)", "",
                  "| train \\ test | good | medium | poor |", "|---|---|---|---|"]
        for a in QUALITIES:
            cells = [f"{_acc(results['table2'][task][a][b])} \\| {TABLE2[(a, b)][task]}" for b in QUALITIES]
            lines.append(f"| {a} | {' | '.join(cells)} |")
    for (task, setting), letter in LETTERS.items():
        tier_word = "train" if setting == "test_time" else "test"
        lines += ["", f"## Fig. 4 ({letter}) — {task}: {SETTING_TITLES[setting]}", "",
                  f"| arm | {' | '.join(f'{tier_word} {t}' for t in QUALITIES)} | balanced acc. (poor) |", "|---|---|---|---|---|"]
        for arm, cells in results["fig4"][task][setting].items():
            lines.append(f"| {arm} | {' | '.join(_acc(cells[t]) for t in QUALITIES)} | {cells['poor']['balanced_accuracy'] * 100:.1f} |")
        family = len(results["paired"][task][setting])
        lines += ["", ("Paired differences (points, a − b, [95 % CI]); family-wise: Bonferroni 95 % intervals over this table's "
                       f"{family} comparisons; p: exact McNemar on repeat 0, Holm-adjusted over the table | paired bootstrap; "
                       "MDD: 80 % power; †: not evidence (two different classifiers, fewer than "
                       f"{MIN_REPEATS_DIFFERENT} repeats):"), "",
                  f"| a − b | {tier_word} tier | difference | per repeat | family-wise CI | p McNemar | p Holm | p bootstrap | MDD |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in results["paired"][task][setting]:
            lines.append(f"| {c['a']} − {c['b']} | {c['tier']} | {_marked(c)} | {_per_repeat(c)} | {_family(c)} | "
                         f"{c['mcnemar']['p']:.3f} | {_p_holm(c)} | {c['p_bootstrap']:.3f} | {c['mdd_points']:.1f} |")
    lines += gated_markdown(results.get("gated"))
    lines += ["", "The paper's stated Fig. 4 averages (it does not say whether points or relative change):", ""]
    lines += [f"- {s}" for s in FIG4_STATED]
    lines += ["", "Figures: `fig4.png` (accuracy per arm with intervals), `forest.png` (paired differences)."]
    return "\n".join(lines) + "\n"


def write_figures(results: dict, out: Path) -> list[Path]:
    """Fig. 4-style bars (accuracy per arm, 95 % intervals) and a forest plot of paired differences."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharey=True)
    for ax, ((task, setting), letter) in zip(axes.ravel(), LETTERS.items()):
        arms = list(results["fig4"][task][setting])
        width = 0.8 / max(1, len(arms))
        for k, arm in enumerate(arms):
            cells = [results["fig4"][task][setting][arm][t] for t in QUALITIES]
            means = np.array([c["accuracy"] * 100 for c in cells])
            err = np.array([[m - c["ci_low"] * 100, c["ci_high"] * 100 - m] for m, c in zip(means, cells)]).T
            ax.bar(np.arange(3) + k * width, means, width, yerr=np.nan_to_num(err), capsize=2, label=arm)
        word = "train" if setting == "test_time" else "test"
        ax.set_xticks(np.arange(3) + width * (len(arms) - 1) / 2, [f"{word} {t}" for t in QUALITIES])
        ax.set_title(f"({letter}) {task}: {'test-time enhancement' if setting == 'test_time' else 'train on enhanced poor'}")
        ax.set_ylabel("accuracy (%)")
        ax.set_ylim(0, 105)
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    bars = out / "fig4.png"
    fig.savefig(bars, dpi=110)
    plt.close(fig)

    entries = [(f"{task} {'test-time' if s == 'test_time' else 'train-enh.'} {c['tier']}: {c['a']} − {c['b']}", c)
               for task in TASKS for s in ("test_time", "train_on_enhanced") for c in results["paired"][task][s]
               if c["tier"] in (("good", "medium") if s == "test_time" else ("good", "poor"))]
    entries += forest_entries(results.get("gated"))
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(entries) + 1.2))
    for i, (_, c) in enumerate(entries):
        colour = "0.65" if not c.get("evidence", True) else "C3" if c["ci_low"] > 0 or c["ci_high"] < 0 else "C0"
        ax.errorbar(c["points"], i, xerr=[[c["points"] - c["ci_low"]], [c["ci_high"] - c["points"]]], fmt="o", ms=3, capsize=2,
                    color=colour)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(entries)), [e[0] + ("" if e[1].get("evidence", True) else " †") for e in entries], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("paired difference (points), 95 % bootstrap interval ("
                  + ("patients and repeats" if results["config"]["repeats"] > 1 else "patients") + ")")
    fig.tight_layout()
    forest = out / "forest.png"
    fig.savefig(forest, dpi=110)
    plt.close(fig)
    return [bars, forest]


def write_report(results: dict, out: Path) -> Path:
    """Write report.md and the figures into ``out``; returns the report path."""
    out = Path(out)
    write_figures(results, out)
    path = out / "report.md"
    path.write_text(report_markdown(results))
    return path
