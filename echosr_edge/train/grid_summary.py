"""From the grid's classifier cells to per-frame prediction rows, and from rows to the summary.

Settings (the ``setting`` column):

- ``table2``: the classifier trained on plain ``train_tier`` frames, tested on plain ``tier`` frames.
- ``test_time`` (Fig. 4 b/d): trained on plain ``train_tier`` frames, tested on poor frames
  through ``arm``; arm ``augmented`` is the classifier trained with degradation augmentation,
  tested on plain poor frames.
- ``train_on_enhanced`` (Fig. 4 a/c): trained on poor frames through ``arm`` (``none``: plain;
  ``augmented``: plain with augmentation), tested on ``tier`` frames (poor ones through ``arm``).

``p`` is the classifier's softmax probability of its predicted class.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from echosr_edge.data.records import QUALITIES, TASK_LABELS, Frame
from echosr_edge.data.tasks import TASKS
from echosr_edge.train.experiment_config import MIN_REPEATS_DIFFERENT
from echosr_edge.train.grid_stats import (
    accuracy_interval,
    balanced_accuracy,
    confusion,
    paired_difference,
    with_holm,
)

SETTINGS = ("test_time", "train_on_enhanced")
SR_LIKE_EXCLUDED = ("none", "bicubic", "nlmeans", "augmented")


def _rows_of(cell_test: dict, by_key: dict[str, Frame], head: tuple, task: str) -> list[tuple]:
    labels = TASK_LABELS[task]
    rows = []
    for key, pred, p in zip(cell_test["keys"], cell_test["pred"], cell_test["p"]):
        f = by_key[key]
        rows.append((*head, f.patient, f.view, f.phase, f.quality, f.label(task), labels[pred], round(p, 6)))
    return rows


def prediction_rows(all_cells: list, by_key: dict[str, Frame], config) -> list[tuple]:
    """One row per (repeat, fold, task, setting, arm, train tier, test frame); see grid_files.PREDICTION_COLUMNS."""
    rows: list[tuple] = []
    arms = config.arms
    for repeat, fold, cells in all_cells:
        for task in TASKS:
            c = cells[task]
            for train in QUALITIES:
                for tier in QUALITIES:
                    rows += _rows_of(c[f"plain_{train}"]["tests"][f"none|{tier}"], by_key, (repeat, fold, task, "table2", "none", train), task)
                for arm in arms:
                    rows += _rows_of(c[f"plain_{train}"]["tests"][f"{arm}|poor"], by_key, (repeat, fold, task, "test_time", arm, train), task)
                if config.augmented:
                    rows += _rows_of(c[f"augmented_{train}"]["tests"]["none|poor"], by_key, (repeat, fold, task, "test_time", "augmented", train), task)
            for tier in QUALITIES:
                rows += _rows_of(c["plain_poor"]["tests"][f"none|{tier}"], by_key, (repeat, fold, task, "train_on_enhanced", "none", "poor"), task)
                for arm in arms[1:]:
                    name = f"{arm if tier == 'poor' else 'none'}|{tier}"
                    rows += _rows_of(c[f"enhanced_{arm}"]["tests"][name], by_key, (repeat, fold, task, "train_on_enhanced", arm, "poor"), task)
                if config.augmented:
                    rows += _rows_of(c["augmented_poor"]["tests"][f"none|{tier}"], by_key, (repeat, fold, task, "train_on_enhanced", "augmented", "poor"), task)
    return rows


def _cell_summary(group: list[tuple], task: str, n_boot: int) -> dict:
    labels = TASK_LABELS[task]
    y = [labels.index(r[10]) for r in group]
    pred = [labels.index(r[11]) for r in group]
    correct = np.array([a == b for a, b in zip(y, pred)])
    result = accuracy_interval(correct, [r[6] for r in group], [r[0] for r in group], n_boot=n_boot)
    result["confusion"] = confusion(y, pred, len(labels))
    result["balanced_accuracy"] = balanced_accuracy(result["confusion"])
    result["labels"] = list(labels)
    return result


def _paired(a: list[tuple], b: list[tuple], n_boot: int, family: int = 1) -> dict:
    """Pair rows on (repeat, fold, frame); McNemar on repeat 0's pairs."""
    index_b = {(r[0], r[1], r[6], r[7], r[8]): r for r in b}
    pairs = [(r, index_b[(r[0], r[1], r[6], r[7], r[8])]) for r in a if (r[0], r[1], r[6], r[7], r[8]) in index_b]
    pairs.sort(key=lambda p: (p[0][0], p[0][1], p[0][6], p[0][7], p[0][8]))
    ca = [x[10] == x[11] for x, _ in pairs]
    cb = [y[10] == y[11] for _, y in pairs]
    return paired_difference(ca, cb, [x[6] for x, _ in pairs], [x[0] for x, _ in pairs], mcnemar_rows=[x[0] == 0 for x, _ in pairs],
                             n_boot=n_boot, family=family)


def classifiers_compared(setting: str, a: str, b: str) -> str:
    """"same" when both arms are read through one trained classifier (test-time enhancement; the gated
    policies), "different" when each arm has its own (train on enhanced; the augmented competitor)."""
    return "same" if setting in ("test_time", "gated") and "augmented" not in (a, b) else "different"


def evidence(comparison: dict) -> dict:
    """What a paired difference can support, given its classifiers and repeats.

    Between two *different* classifiers the training runs' spread is the larger part of the
    variance (seeds of one classifier: 56–100 % on another tier), so such a difference needs at
    least ``MIN_REPEATS_DIFFERENT`` repeats in its interval before it is read as evidence. One
    classifier read twice cancels most of it; its interval still leaves the runs out with one repeat.
    """
    repeats, same = comparison.get("repeats", 0), comparison.get("classifiers") == "same"
    supported = same or repeats >= MIN_REPEATS_DIFFERENT
    if supported and repeats > 1:
        why = f"the interval resamples patients and {repeats} repeats (training runs)"
    elif supported:
        why = "one classifier read twice; one repeat, so training runs are not in the interval"
    else:
        why = (f"two different classifiers and {repeats} repeat(s): training runs' spread not resolved "
               f"(needs --repeats {MIN_REPEATS_DIFFERENT} or more)")
    return {"evidence": supported, "why": why}


def with_evidence(comparison: dict) -> dict:
    """``comparison`` with ``evidence`` and ``why`` set (see ``evidence``)."""
    comparison.update(evidence(comparison))
    return comparison


def comparisons_for(arms: list[str]) -> list[tuple[str, str]]:
    """(a, b) pairs reported as a − b: every arm vs none, each SR arm vs bicubic and vs augmented."""
    sr_arms = [a for a in arms if a not in SR_LIKE_EXCLUDED]
    pairs = [(a, "none") for a in arms if a != "none"]
    pairs += [(a, "bicubic") for a in sr_arms if "bicubic" in arms]
    pairs += [(a, "augmented") for a in sr_arms if "augmented" in arms]
    return pairs


def _versus_chance(cell: dict, task: str) -> dict:
    chance = 1.0 / len(TASK_LABELS[task])
    return {"accuracy": cell["accuracy"], "ci_low": cell["ci_low"], "ci_high": cell["ci_high"], "chance": chance,
            "learned": bool(cell["n"] and cell["ci_low"] > chance)}


def learning_check(table2: dict) -> dict:
    """Did each classifier learn its task? Per task and training tier: its accuracy on plain frames of
    its own tier (Table 2's diagonal) against chance (1 / classes); ``learned`` when the interval's
    lower end is above chance. A classifier at chance answers by its class prior, so differences
    measured through it say nothing about an arm."""
    return {task: {tier: _versus_chance(rows[tier][tier], task) for tier in QUALITIES} for task, rows in table2.items()}


def enhanced_learning_check(fig4: dict) -> dict:
    """The same check for the train-on-enhanced classifiers: each one's accuracy on poor test frames
    through its own arm (the tier and chain it was trained on) against chance."""
    return {task: {arm: _versus_chance(tiers["poor"], task) for arm, tiers in settings["train_on_enhanced"].items()}
            for task, settings in fig4.items()}


def summarise(rows: list[tuple], config) -> dict:
    """Table 2, Fig. 4 cells (accuracy, interval, balanced accuracy, confusion) and paired comparisons."""
    n_boot = config.bootstrap
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for r in rows:
        task, setting, arm, train = r[2], r[3], r[4], r[5]
        tier = r[9] if setting in ("table2", "train_on_enhanced") else train
        key = (task, setting, arm, train if setting == "table2" else None, tier)
        groups[key].append(r)
    arms = list(config.arms) + (["augmented"] if config.augmented else [])
    table2 = {task: {a: {b: _cell_summary(groups[(task, "table2", "none", a, b)], task, n_boot) for b in QUALITIES}
                     for a in QUALITIES} for task in TASKS}
    fig4: dict = {}
    paired: dict = {}
    for task in TASKS:
        fig4[task], paired[task] = {}, {}
        for setting in SETTINGS:
            fig4[task][setting] = {arm: {tier: _cell_summary(groups[(task, setting, arm, None, tier)], task, n_boot)
                                         for tier in QUALITIES} for arm in arms}
            family = [(a, b, tier) for a, b in comparisons_for(arms) for tier in QUALITIES]
            paired[task][setting] = with_holm([
                with_evidence({"a": a, "b": b, "tier": tier, "classifiers": classifiers_compared(setting, a, b),
                               **_paired(groups[(task, setting, a, None, tier)], groups[(task, setting, b, None, tier)], n_boot,
                                         family=len(family))})
                for a, b, tier in family])
    mdd = [c["mdd_points"] for t in paired.values() for s in t.values() for c in s if np.isfinite(c["mdd_points"]) and c["mdd_points"] > 0]  # 0: no discordant pair, nothing to power
    return {
        "table2": table2,
        "learning": learning_check(table2),
        "learning_enhanced": enhanced_learning_check(fig4),
        "fig4": fig4,
        "paired": paired,
        "power": {
            "alpha": 0.05,
            "power": 0.8,
            "mdd_points_median": float(np.median(mdd)) if mdd else float("nan"),
            "mdd_points_range": [float(min(mdd)), float(max(mdd))] if mdd else [],
            "method": "(z_0.975 + z_0.8) x the paired bootstrap standard error of each difference",
        },
        "intervals": {
            "repeats": config.repeats,
            "resampled": "patients and repeats" if config.repeats > 1 else "patients",
            "method": ("percentile bootstrap; each draw resamples patients (all their frames together) and, with two or more "
                       "repeats, the repeats (training runs) crossed with them (Owen's pigeonhole bootstrap)"),
            "evidence_rule": (f"a difference between two different classifiers is evidence from {MIN_REPEATS_DIFFERENT} repeats on; "
                              "one classifier read twice (test-time, gated) from one"),
        },
        "multiplicity": {
            "family": "every paired comparison of one task in one setting",
            "p_holm": "exact McNemar p, Holm-adjusted within the family",
            "ci_family": "Bonferroni: the same bootstrap draws' alpha/2m and 1 - alpha/2m percentiles (m: the family's size)",
        },
    }
