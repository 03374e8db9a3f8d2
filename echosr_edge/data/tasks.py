"""The paper's class-balanced task sets per quality tier, and their honest train/test splits.

Composition (PAPER.md, "Reading the protocol"): the reference tier's (poor's) frame count in
each (view, phase) cell, counted from the data, never written down. On CAMUS that is 69 per
2CH cell and 47 per 4CH cell, so the view task has 138 2CH / 94 4CH frames and the phase
task 116 ED / 116 ES. Every tier's set reproduces that composition, sampled from the tier,
seeded. The two tasks share one composition, so for a tier and seed they share their frames
and their split; only the label differs.

Splits, per seed:

- ``patient`` (default): one patient partition for all tiers and tasks, stratified by the
  patients' (2CH, 4CH) quality. The reference tier's frames keep their side; every other
  tier samples, from its train-side and test-side patients separately, as many frames per
  cell as the reference tier has on that side. No patient is ever on both sides, even
  across tiers (train on good, test on poor).
- ``frame`` (the paper's): each tier's set is split 80/20 frame by frame, stratified by
  (view, phase) cell; one patient's ED and ES may fall on different sides.

When another tier has fewer frames than the reference tier in a cell (on a side), that cell is
sized by the smallest tier instead, so every tier still reproduces one composition; a cell that
would keep less than half of the reference count is refused instead. On CAMUS poor is the
smallest tier in every cell and this never applies; it does on a tree with an even quality mix,
where the tiers' counts differ by chance.

Within a view, frames are sampled by patient: the ED and ES frames of one patient's view are
taken together whenever the cell counts allow (they do on CAMUS, where quality is per view).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from echosr_edge.data.records import PHASES, QUALITIES, VIEWS, Frame
from echosr_edge.data.split_file import UNITS, SplitFile, TaskSplit
from echosr_edge.data.splits import (
    largest_remainder,
    patient_strata,
    stratified_test_patients,
)
from echosr_edge.errors import ConfigError

TASKS: tuple[str, ...] = ("view", "phase")
Cell = tuple[str, str]  # (view, phase)


def cell_name(cell: Cell) -> str:
    """'2CH/ED' for ('2CH', 'ED')."""
    return f"{cell[0]}/{cell[1]}"


def reference_composition(frames: list[Frame], reference: str = "poor") -> dict[Cell, int]:
    """Frames of the ``reference`` tier per (view, phase) cell, counted from ``frames``."""
    if reference not in QUALITIES:
        raise ConfigError(f"unknown quality tier {reference!r}; tiers: {', '.join(QUALITIES)}")
    counts = Counter((f.view, f.phase) for f in frames if f.quality == reference)
    return {(v, p): counts.get((v, p), 0) for v in VIEWS for p in PHASES}


# A cell may be lowered to the smallest tier's count, but not below this share of the reference
# tier's: a tree where some tier has far fewer frames is refused, not shrunk silently.
MIN_CAPPED_SHARE = 0.5


def capped_composition(need: dict[Cell, int], frames: list[Frame], tiers: tuple[str, ...], what: str = "") -> dict[Cell, int]:
    """``need`` with each cell lowered to the fewest frames any of ``tiers`` has in that cell of ``frames``.

    Refused (naming the tier and cell) when that would keep less than ``MIN_CAPPED_SHARE`` of a cell.
    """
    counts = {tier: Counter((f.view, f.phase) for f in frames if f.quality == tier) for tier in tiers}
    capped = {}
    for cell, n in need.items():
        tier, have = min(((t, c.get(cell, 0)) for t, c in counts.items()), key=lambda tc: tc[1], default=("", n))
        if have < n and have < MIN_CAPPED_SHARE * n:
            raise ConfigError(
                f"{what}{tier} tier: the {cell[0]} {cell[1]} cell needs {n} frames to match the reference tier, "
                f"only {have} are available (too few patients for this split)"
            )
        capped[cell] = min(n, have)
    return capped


def class_counts(composition: dict[Cell, int], task: str) -> dict[str, int]:
    """Frames per class of ``task`` in a set of this composition (view: 2CH/4CH; phase: ED/ES)."""
    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; task sets exist for: {', '.join(TASKS)}")
    axis = 0 if task == "view" else 1
    labels = VIEWS if task == "view" else PHASES
    return {label: sum(n for cell, n in composition.items() if cell[axis] == label) for label in labels}


def _sample(pool: list[Frame], need: dict[Cell, int], rng: np.random.Generator, what: str) -> list[Frame]:
    """``need[cell]`` frames per cell from ``pool``, drawing one patient's view at a time."""
    chosen: list[Frame] = []
    for view in VIEWS:
        by_patient: dict[str, dict[str, Frame]] = defaultdict(dict)
        for f in pool:
            if f.view == view:
                by_patient[f.patient][f.phase] = f
        patients = sorted(by_patient)
        order = [patients[i] for i in rng.permutation(len(patients))]
        for phase in PHASES:
            n = need.get((view, phase), 0)
            picked = [by_patient[p][phase] for p in order if phase in by_patient[p]][:n]
            if len(picked) < n:
                raise ConfigError(
                    f"{what}: the {view} {phase} cell needs {n} frames to match the reference tier, "
                    f"only {len(picked)} are available (too few patients for this split)"
                )
            chosen.extend(picked)
    return chosen


def _keys(frames: list[Frame]) -> tuple[str, ...]:
    return tuple(sorted(f.key for f in frames))


def _patient_sets(frames, tiers, reference, seed, test_fraction) -> dict[str, tuple[list[Frame], list[Frame]]]:
    return task_sets_for(frames, stratified_test_patients(frames, test_fraction, seed), tiers, reference, seed)


def patient_folds(frames: list[Frame], folds: int, repeat: int = 0) -> list[set[str]]:
    """``folds`` disjoint test-patient sets covering every patient once, stratified by the
    patients' (2CH, 4CH) quality and shuffled per ``repeat`` (repeated grouped k-fold)."""
    strata = patient_strata(frames)
    if folds < 2 or folds > len(strata):
        raise ConfigError(f"{folds} folds need between 2 and {len(strata)} (the patients) folds")
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for patient in sorted(strata):
        groups[strata[patient]].append(patient)
    rng = np.random.default_rng([repeat, 50_021])
    out: list[set[str]] = [set() for _ in range(folds)]
    position = 0
    for key in sorted(groups):
        members = groups[key]
        for i in rng.permutation(len(members)):
            out[position % folds].add(members[i])
            position += 1
    return out


def task_sets_for(
    frames: list[Frame], test_patients: set[str], tiers: tuple[str, ...] = QUALITIES, reference: str = "poor", seed: int = 0
) -> dict[str, tuple[list[Frame], list[Frame]]]:
    """Each tier's (train, test) task set for one patient partition (see the module doc)."""
    sides = {"train": [f for f in frames if f.patient not in test_patients], "test": [f for f in frames if f.patient in test_patients]}
    need = {side: capped_composition(reference_composition(fs, reference), fs, tiers, f"{side} side, seed {seed}: ")
            for side, fs in sides.items()}
    sets = {}
    for tier_index, tier in enumerate(tiers):
        picked = []
        for side_index, side in enumerate(("train", "test")):
            pool = [f for f in sides[side] if f.quality == tier]
            rng = np.random.default_rng([seed, tier_index, side_index, 30_011])
            picked.append(_sample(pool, need[side], rng, f"{tier} tier, {side} side, seed {seed}"))
        sets[tier] = (picked[0], picked[1])
    return sets


def _frame_sets(frames, tiers, composition, seed, test_fraction) -> dict[str, tuple[list[Frame], list[Frame]]]:
    sets = {}
    for tier_index, tier in enumerate(tiers):
        rng = np.random.default_rng([seed, tier_index, 40_009])
        subset = _sample([f for f in frames if f.quality == tier], composition, rng, f"{tier} tier, seed {seed}")
        cells = [[f for f in subset if (f.view, f.phase) == cell] for cell in composition]
        n_test = round(test_fraction * len(subset))
        shares = largest_remainder([len(c) for c in cells], test_fraction, n_test)
        train, test = [], []
        for cell_frames, share in zip(cells, shares):
            order = rng.permutation(len(cell_frames))
            test.extend(cell_frames[i] for i in order[:share])
            train.extend(cell_frames[i] for i in order[share:])
        sets[tier] = (train, test)
    return sets


def build_task_splits(
    frames: list[Frame],
    *,
    tasks: tuple[str, ...] = TASKS,
    tiers: tuple[str, ...] = QUALITIES,
    unit: str = "patient",
    seeds: tuple[int, ...] = (0,),
    test_fraction: float = 0.2,
    reference: str = "poor",
    source: dict | None = None,
) -> SplitFile:
    """The task sets of every tier and their train/test splits for each seed (see the module doc)."""
    for task in tasks:
        class_counts({}, task)  # validates the task name
    unknown = [t for t in tiers if t not in QUALITIES]
    if unknown:
        raise ConfigError(f"unknown quality tier(s) {unknown}; tiers: {', '.join(QUALITIES)}")
    if unit not in UNITS:
        raise ConfigError(f"unknown split unit {unit!r}; units: {', '.join(UNITS)}")
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError("test_fraction must be between 0 and 1")
    if not seeds:
        raise ConfigError("at least one seed is needed")
    reference_counts = reference_composition(frames, reference)
    if not sum(reference_counts.values()):
        raise ConfigError(f"the reference tier {reference!r} has no frames: task sets cannot be sized")
    composition = capped_composition(reference_counts, frames, tiers)
    splits: list[TaskSplit] = []
    used: dict[str, str] = {}
    for seed in seeds:
        if unit == "patient":
            sets = _patient_sets(frames, tiers, reference, seed, test_fraction)
        else:
            sets = _frame_sets(frames, tiers, composition, seed, test_fraction)
        for tier in tiers:
            train, test = sets[tier]
            used.update((f.key, f.quality) for f in (*train, *test))
            for task in tasks:
                splits.append(TaskSplit(task, tier, int(seed), _keys(train), _keys(test)))
    return SplitFile(
        unit=unit,
        test_fraction=test_fraction,
        reference_tier=reference,
        composition={cell_name(c): n for c, n in composition.items()},
        seeds=tuple(int(s) for s in seeds),
        splits=tuple(splits),
        qualities=dict(sorted(used.items())),
        source=dict(source or {}),
    )


def sr_training_frames(frames: list[Frame], split_file: SplitFile, seed: int | None = None, tier: str = "good") -> list[Frame]:
    """Frames of ``tier`` from patients on no test side of ``seed``: SR fine-tuning data that
    never includes a classifier test patient (PAPER.md's default; the paper used all good frames)."""
    held_out = split_file.test_patients(seed)
    return [f for f in frames if f.quality == tier and f.patient not in held_out]


def describe_splits(split_file: SplitFile, seed: int | None = None) -> list[dict]:
    """Per task set of ``seed``: sizes and class counts of both sides (for reports and the CLI)."""
    seed = split_file.seeds[0] if seed is None else seed
    rows = []
    for s in split_file.splits:
        if s.seed != seed:
            continue
        row = {"task": s.task, "tier": s.tier, "seed": s.seed, "train": len(s.train), "test": len(s.test)}
        for side in ("train", "test"):
            labels = [k.split("_")[1 if s.task == "view" else 2] for k in getattr(s, side)]
            row[f"{side}_classes"] = dict(sorted(Counter(labels).items()))
        rows.append(row)
    return rows


def source_of(root: Path, release: str, frames: list[Frame]) -> dict:
    """Provenance recorded in a split file: where the frames came from."""
    return {"root": str(root), "release": release, "frames": len(frames), "patients": len({f.patient for f in frames})}
