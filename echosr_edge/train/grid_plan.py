"""What a grid will train, before anything is trained: every cell, its training frames and optimiser steps.

A paper grid is days of GPU. ``plan_cells`` walks the same folds and task sets the grid walks
(``data/tasks.py``) and lists each cell as the grid names it (``r0 f1 view plain_good``), with the
frames it trains on and the optimiser steps its trainer will take. ``project`` turns measured
seconds per optimiser step of each trainer (``benchmarks/grid_projection.py`` measures them on
the card at hand) into the grid's training time. It leaves out enhancement and evaluation (SR
inference on the test frames, predictions), which are minutes against the SR models' hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from echosr_edge.data.records import QUALITIES, Frame
from echosr_edge.data.tasks import TASKS, patient_folds, task_sets_for
from echosr_edge.train.experiment_config import ExperimentConfig
from echosr_edge.train.gated import gated_cell, sr_arms

TRAINERS = ("srresnet", "srgan", "classifier", "quality")


@dataclass(frozen=True)
class PlannedCell:
    """One cell of the grid: its progress label, trainer, training frames, epochs and optimiser steps."""

    label: str
    trainer: str
    frames: int
    epochs: int
    steps: int


def _sr_cells(config: ExperimentConfig, prefix: str, good: int) -> list[PlannedCell]:
    cells = []
    for kind in config.sr_models:
        cfg = config.schedule.sr if kind == "srresnet" else config.schedule.srgan
        per_epoch = math.ceil(good * cfg.patches_per_frame / cfg.batch)
        cells.append(PlannedCell(f"{prefix} {kind}", kind, good, cfg.epochs, cfg.epochs * per_epoch))
    return cells


def _trained(label: str, trainer: str, frames: int, cfg) -> PlannedCell:
    epochs = cfg.epochs_for(frames)
    return PlannedCell(label, trainer, frames, epochs, epochs * max(1, math.ceil(frames / cfg.batch)))


def plan_cells(frames: list[Frame], config: ExperimentConfig) -> list[PlannedCell]:
    """Every cell ``run_experiments`` trains on ``frames``, in the order it trains them."""
    cells: list[PlannedCell] = []
    if config.sr_data == "all":
        cells += _sr_cells(config, "shared", sum(f.quality == "good" for f in frames))
    clf, quality = config.schedule.classifier, config.schedule.quality
    enhanced = [a for a in config.arms if a != "none"]
    for repeat in range(config.repeats):
        for fold, test_patients in enumerate(patient_folds(frames, config.folds, repeat)):
            prefix = f"r{repeat} f{fold}"
            if config.sr_data != "all":
                cells += _sr_cells(config, prefix, sum(f.quality == "good" and f.patient not in test_patients for f in frames))
            sets = task_sets_for(frames, test_patients, QUALITIES, "poor", repeat * 100 + fold)
            train = {tier: len(sets[tier][0]) for tier in QUALITIES}
            for task in TASKS:
                cells += [_trained(f"{prefix} {task} plain_{tier}", "classifier", train[tier], clf) for tier in QUALITIES]
                if sr_arms(config) and gated_cell(config) == "plain_all":
                    cells.append(_trained(f"{prefix} {task} plain_all", "classifier", sum(train.values()), clf))
                cells += [_trained(f"{prefix} {task} enhanced_{arm}", "classifier", train["poor"], clf) for arm in enhanced]
                if config.augmented:
                    cells += [_trained(f"{prefix} {task} augmented_{tier}", "classifier", train[tier], clf) for tier in QUALITIES]
            if sr_arms(config):
                side = sum(f.patient not in test_patients for f in frames)
                cells.append(_trained(f"{prefix} gated quality", "quality", side, quality))
    return cells


def project(cells: list[PlannedCell], seconds_per_step: dict[str, float]) -> dict:
    """The grid's training time from each trainer's seconds per optimiser step.

    Returns {"trainers": {trainer: {"cells", "steps", "seconds"}}, "seconds", "hours"}; a trainer
    with cells but no measured rate makes the total NaN and is listed in ``"unmeasured"``.
    """
    trainers: dict[str, dict] = {}
    for cell in cells:
        t = trainers.setdefault(cell.trainer, {"cells": 0, "steps": 0})
        t["cells"] += 1
        t["steps"] += cell.steps
    for name, t in trainers.items():
        rate = seconds_per_step.get(name)
        t["seconds"] = math.nan if rate is None else t["steps"] * rate
    total = sum(t["seconds"] for t in trainers.values())
    return {"trainers": trainers, "seconds": total, "hours": total / 3600.0,
            "unmeasured": sorted(n for n in trainers if n not in seconds_per_step)}
