"""The gated pipeline as an experiment: ``never``, ``always`` and ``auto`` on each fold's mixed-quality test frames.

At the bedside nobody labels quality: ``run --enhance auto`` lets the bundle's quality model
decide, and the runtime enhances every frame the quality model does not rate ``good``
(``runtime/pipeline.py``: medium frames are enhanced too). The grid asks what that buys.

Per repeat and fold:

- **The quality model** is the schedule's ``quality`` trainer (task ``quality``, class-weighted,
  as ``train quality``) trained on every frame of the fold's training-side patients, through
  the ``none`` chain (the HR frame, what the runtime's quality model sees); it rates the fold's
  test frames. Its cell is ``cells/r{repeat}_f{fold}/gated/quality.json`` (resumed like any cell).
- **The test frames** are the fold's test task sets of all three tiers (good, medium and poor in
  equal shares, class-balanced: ``data/tasks.py``).
- **The classifier** (``--gated-classifier``) is, by default, ``plain_all``: trained on the
  plain training task sets of every tier together, as the product's ``train classifier`` trains
  the classifier a bundle ships (every tier). ``good`` uses the grid's ``plain_good`` cell
  instead, the test-time setting's "trained on good" (the paper's Fig. 4 b/d). Either cell also
  predicts each SR arm's output for the good and medium test frames.
- **Policies**, per SR arm (``srresnet``, ``srgan``, each ``--sr-checkpoint``): ``never`` (the
  plain frame), ``always-<sr>`` (the arm's output for every frame), ``auto-<sr>`` (the arm's
  output where the quality model says medium or poor, the plain frame where it says good).

Rows go to ``predictions.csv`` with setting ``gated``, arm = the policy, train tier ``good``;
the quality model's decision per frame to ``gated.csv``; the summary (accuracy per policy with
patient-cluster bootstrap intervals, per tier, paired differences auto − never, always − never,
auto − always with McNemar p, the share auto enhanced, the quality model's accuracy) to
``results.json`` under ``gated``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from echosr_edge.data.records import QUALITIES, TASK_LABELS, Frame
from echosr_edge.data.tasks import TASKS
from echosr_edge.train.arms import CLASSICAL_ARMS, enhance
from echosr_edge.train.grid_stats import accuracy_interval, balanced_accuracy, confusion, with_holm
from echosr_edge.train.grid_summary import _cell_summary, _paired, with_evidence

SETTING = "gated"
GOOD = "good"  # the runtime's rule: enhance unless the quality model says this
QUALITY_TEST = "none|mixed"


def sr_arms(config) -> list[str]:
    """The grid's SR arms (trained per fold or given with ``--sr-checkpoint``): the ones ``always``/``auto`` may run.

    None when the gated experiment is turned off (``--no-gated``): then no quality model is trained.
    """
    if not config.gated:
        return []
    return [a for a in config.arms if a not in CLASSICAL_ARMS]


def gated_cell(config) -> str:
    """The classifier cell the policies share: ``plain_all`` or ``plain_good`` (``--gated-classifier``)."""
    return f"plain_{config.gated_classifier}"


def policies(config) -> list[str]:
    """``never``, then ``always-<sr>`` and ``auto-<sr>`` per SR arm."""
    return ["never"] + [f"{p}-{a}" for a in sr_arms(config) for p in ("always", "auto")]


def comparisons(config) -> list[tuple[str, str]]:
    """(a, b) reported as a − b: auto − never, always − never, auto − always per SR arm."""
    return [pair for a in sr_arms(config)
            for pair in ((f"auto-{a}", "never"), (f"always-{a}", "never"), (f"auto-{a}", f"always-{a}"))]


def mixed_test_frames(sets: dict) -> list[Frame]:
    """The fold's test task sets of every tier, good then medium then poor."""
    return [f for tier in QUALITIES for f in sets[tier][1]]


def enhance_unenhanced_tiers(arms_frames: dict, sets: dict, config, chain: tuple, restorers: dict) -> None:
    """Add each SR arm's output for the good and medium test frames to ``arms_frames`` (the grid enhances poor frames only)."""
    extra = [f for tier in QUALITIES if tier != "poor" for f in sets[tier][1]]
    for arm in sr_arms(config):
        outs = enhance(arm, extra, *chain, restorers.get(arm), config.downsample)
        arms_frames[arm].update({f.key: e for f, e in zip(extra, outs)})


def classifier_tests(arms_frames: dict, sets: dict, config) -> dict[str, list[Frame]]:
    """The extra test sets of the ``plain_good`` cell: each SR arm on the good and medium test frames."""
    return {f"{arm}|{tier}": [arms_frames[arm][f.key] for f in sets[tier][1]]
            for arm in sr_arms(config) for tier in QUALITIES if tier != "poor"}


def quality_cell(train: list[Frame], test: list[Frame], config, seed: int, predict: Callable) -> Callable[[], dict]:
    """The fold's quality model: trained on ``train`` (every training-side frame), rating ``test``."""
    def compute() -> dict:
        from echosr_edge.train.classifier import train_classifier

        cfg = replace(config.schedule.quality, task="quality", seed=seed, device=config.device,
                      imagenet_weights=config.imagenet_weights)
        model, _ = train_classifier(train, cfg)
        return {"train_frames": len(train), "input_size": cfg.input_size, "epochs": cfg.epochs_for(len(train)),
                "tests": {QUALITY_TEST: predict(model, test, "quality", cfg.input_size, config.device)}}

    return compute


def _by_key(*tests: dict) -> dict[str, tuple[int, float]]:
    return {k: (pred, p) for t in tests for k, pred, p in zip(t["keys"], t["pred"], t["p"])}


def gated_rows(all_cells: list, quality_cells: list, by_key: dict[str, Frame], config) -> tuple[list[tuple], list[tuple]]:
    """(prediction rows with setting ``gated``, one decision row per repeat, fold and test frame)."""
    rows, decisions = [], []
    arms = sr_arms(config)
    qlabels = TASK_LABELS["quality"]
    for (repeat, fold, cells), quality in zip(all_cells, quality_cells):
        rated = _by_key(quality["tests"][QUALITY_TEST])
        order = quality["tests"][QUALITY_TEST]["keys"]
        for key in order:
            f = by_key[key]
            pred, p = rated[key]
            decisions.append((repeat, fold, f.patient, f.view, f.phase, f.quality, qlabels[pred], round(p, 6),
                              int(qlabels[pred] != GOOD)))
        for task in TASKS:
            labels = TASK_LABELS[task]
            tests = cells[task][gated_cell(config)]["tests"]
            never = _by_key(*(tests[f"none|{t}"] for t in QUALITIES))
            always = {a: _by_key(*(tests[f"{a}|{t}"] for t in QUALITIES)) for a in arms}
            for key in order:
                f = by_key[key]
                head = (repeat, fold, task, SETTING)
                tail = (f.patient, f.view, f.phase, f.quality, f.label(task))
                enhanced = qlabels[rated[key][0]] != GOOD
                chosen = [("never", never[key])]
                for a in arms:
                    chosen += [(f"always-{a}", always[a][key]), (f"auto-{a}", always[a][key] if enhanced else never[key])]
                rows += [(*head, name, config.gated_classifier, *tail, labels[pred], round(p, 6)) for name, (pred, p) in chosen]
    return rows, decisions


def _quality_summary(decisions: list[tuple], n_boot: int) -> dict:
    labels = TASK_LABELS["quality"]
    truth = [labels.index(d[5]) for d in decisions]
    said = [labels.index(d[6]) for d in decisions]
    patients = [d[2] for d in decisions]
    repeats = [d[0] for d in decisions]
    out = accuracy_interval([a == b for a, b in zip(truth, said)], patients, repeats, n_boot=n_boot)
    out["confusion"] = confusion(truth, said, len(labels))
    out["balanced_accuracy"] = balanced_accuracy(out["confusion"])
    out["labels"] = list(labels)
    gate = accuracy_interval([(t == GOOD) == (s == GOOD) for t, s in ((d[5], d[6]) for d in decisions)], patients, repeats,
                             n_boot=n_boot)
    out["gate_accuracy"] = {"what": "good vs not good (the decision auto makes)", **gate}
    return out


def _enhanced_share(decisions: list[tuple]) -> dict:
    total = Counter(d[5] for d in decisions)
    enhanced = Counter(d[5] for d in decisions if d[8])
    return {"all": sum(enhanced.values()) / max(len(decisions), 1),
            "by_tier": {t: enhanced[t] / total[t] if total[t] else float("nan") for t in QUALITIES}}


def _paired_family(groups: dict, task: str, pairs: list[tuple[str, str]], n_boot: int) -> list[dict]:
    """The task's paired differences as one family: Bonferroni intervals and Holm-adjusted McNemar p (as the Fig. 4 tables)."""
    return with_holm([with_evidence({"a": a, "b": b, "classifiers": "same",
                                     **_paired(groups.get((task, a), []), groups.get((task, b), []), n_boot, family=len(pairs))})
                      for a, b in pairs])


def summarise_gated(rows: list[tuple], decisions: list[tuple], config) -> dict | None:
    """results.json's ``gated`` section (None when the grid has no SR arm)."""
    if not sr_arms(config):
        return None
    n_boot = config.bootstrap
    groups: dict[tuple, list[tuple]] = {}
    for r in rows:
        if r[3] == SETTING:
            groups.setdefault((r[2], r[4]), []).append(r)
            groups.setdefault((r[2], r[4], r[9]), []).append(r)
    names = policies(config)
    out: dict = {
        "classifier": ("trained on the plain frames of every tier (as the product's classifier)" if config.gated_classifier == "all"
                       else "trained on plain good frames (the test-time setting's 'trained on good')"),
        "rule": "auto enhances a frame unless the fold's quality model rates it 'good' (run --enhance auto)",
        "test_frames": "the fold's test task sets of every tier (good, medium, poor in equal shares)",
        "quality_model": {"trained_on": "every frame of the fold's training-side patients, through the none chain",
                          "input_size": config.schedule.quality.input_size, "epochs": config.schedule.quality.epochs,
                          "min_steps": config.schedule.quality.min_steps, **_quality_summary(decisions, n_boot)},
        "enhanced_share": _enhanced_share(decisions),
        "policies": names,
    }
    for task in TASKS:
        out[task] = {
            "accuracy": {name: _cell_summary(groups.get((task, name), []), task, n_boot) for name in names},
            "by_tier": {name: {t: _cell_summary(groups.get((task, name, t), []), task, n_boot) for t in QUALITIES}
                        for name in names},
            "paired": _paired_family(groups, task, comparisons(config), n_boot),
        }
    return out


def _pct(cell: dict) -> str:
    if cell["n"] == 0 or np.isnan(cell["accuracy"]):
        return "—"
    return f"{cell['accuracy'] * 100:.1f} [{cell['ci_low'] * 100:.1f}, {cell['ci_high'] * 100:.1f}]"


def gated_markdown(gated: dict | None) -> list[str]:
    """The report's section on the gated pipeline (nothing when the grid has no SR arm)."""
    if not gated:
        return []
    q, share = gated["quality_model"], gated["enhanced_share"]
    lines = ["", "## The gated pipeline — never, always, auto (`run --enhance auto`)", "",
             f"Classifier {gated['classifier']}; {gated['rule']}; test frames: {gated['test_frames']}.",
             (f"The fold's quality model ({q['input_size']} px, {q['epochs']} epochs, {q['trained_on']}): accuracy "
              f"{_pct(q)}, balanced {q['balanced_accuracy'] * 100:.1f}; good vs not good {_pct(q['gate_accuracy'])}. "
              f"Auto enhanced {share['all'] * 100:.0f} % of the frames ("
              + ", ".join(f"{t} {share['by_tier'][t] * 100:.0f} %" for t in QUALITIES) + ")."),
             f"Quality confusion (rows: true {', '.join(q['labels'])}; columns: rated): {q['confusion']}."]
    for task in TASKS:
        lines += ["", f"### {task}: accuracy (%) [95 % CI]", "", f"| policy | all tiers | {' | '.join(QUALITIES)} |",
                  "|---|---|---|---|---|"]
        for name in gated["policies"]:
            tiers = gated[task]["by_tier"][name]
            lines.append(f"| {name} | {_pct(gated[task]['accuracy'][name])} | {' | '.join(_pct(tiers[t]) for t in QUALITIES)} |")
        lines += ["", f"Paired differences; family-wise: Bonferroni intervals and Holm-adjusted McNemar p over these {len(gated[task]['paired'])}:",
                  "", "| a − b | difference (points) [95 % CI] | per repeat | family-wise CI | p McNemar | p Holm | p bootstrap |",
                  "|---|---|---|---|---|---|---|"]
        for c in gated[task]["paired"]:
            diff = "—" if np.isnan(c["points"]) else f"{c['points']:+.1f} [{c['ci_low']:+.1f}, {c['ci_high']:+.1f}]"
            family = "—" if np.isnan(c.get("ci_family_low", np.nan)) else f"[{c['ci_family_low']:+.1f}, {c['ci_family_high']:+.1f}]"
            holm_p = c["mcnemar"].get("p_holm")
            per_repeat = " / ".join(f"{v:+.1f}" for v in c.get("per_repeat", [])) or "—"
            lines.append(f"| {c['a']} − {c['b']} | {diff} | {per_repeat} | {family} | {c['mcnemar']['p']:.3f} | "
                         f"{'—' if holm_p is None else f'{holm_p:.3f}'} | {c['p_bootstrap']:.3f} |")
    return lines


def forest_entries(gated: dict | None) -> list[tuple[str, dict]]:
    """The forest plot's rows for the gated pipeline: auto − never per task and SR arm."""
    if not gated:
        return []
    return [(f"{task} gated: {c['a']} − {c['b']}", c) for task in TASKS for c in gated[task]["paired"]
            if c["a"].startswith("auto-") and c["b"] == "never"]
