"""The paper's class-balanced task sets per quality tier, and splits that keep patients on one side."""

from __future__ import annotations

from collections import Counter

import pytest

from echosr_edge.data.records import QUALITIES
from echosr_edge.data.split_file import load_split_file
from echosr_edge.data.tasks import TASKS, build_task_splits, reference_composition, sr_training_frames
from echosr_edge.errors import ConfigError, DataError
from tests.data.conftest import label_only_frames

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def patient_splits(camus_500):
    return build_task_splits(camus_500, seeds=SEEDS)


@pytest.fixture(scope="module")
def frame_splits(camus_500):
    return build_task_splits(camus_500, unit="frame", seeds=SEEDS)


def _cells(keys):
    return Counter(tuple(k.split("_")[1:]) for k in keys)


def test_composition_is_counted_from_the_reference_tier(camus_500):
    assert reference_composition(camus_500) == {("2CH", "ED"): 69, ("2CH", "ES"): 69, ("4CH", "ED"): 47, ("4CH", "ES"): 47}
    fewer_poor = [f for f in camus_500 if not (f.quality == "poor" and f.patient < "patient0100")]
    assert reference_composition(fewer_poor) != reference_composition(camus_500)
    assert reference_composition(camus_500, "medium")[("4CH", "ES")] == 165


@pytest.mark.parametrize("unit", ["patient", "frame"])
def test_every_tier_and_task_has_the_poor_tiers_composition(camus_500, unit, patient_splits, frame_splits):
    splits = patient_splits if unit == "patient" else frame_splits
    for seed in SEEDS:
        for tier in QUALITIES:
            for task in TASKS:
                s = splits.get(task, tier, seed)
                whole = _cells(s.train + s.test)
                assert whole == {("2CH", "ED"): 69, ("2CH", "ES"): 69, ("4CH", "ED"): 47, ("4CH", "ES"): 47}
                assert all(splits.qualities[k] == tier for k in s.train + s.test)
                assert 0.17 < len(s.test) / 232 < 0.23
    view = patient_splits.get("view", "good")
    labels = Counter(k.split("_")[1] for k in view.train + view.test)
    assert labels == {"2CH": 138, "4CH": 94}


def test_no_patient_is_on_both_sides_of_a_patient_level_split_for_both_tasks(patient_splits):
    for seed in SEEDS:
        for task in TASKS:
            for tier in QUALITIES:
                s = patient_splits.get(task, tier, seed)
                assert s.train and s.test
                assert not s.patients("train") & s.patients("test"), (task, tier, seed)


def test_no_patient_crosses_sides_between_tiers_either(patient_splits):
    for seed in SEEDS:
        train = set().union(*(patient_splits.get(t, q, seed).patients("train") for t in TASKS for q in QUALITIES))
        test = set().union(*(patient_splits.get(t, q, seed).patients("test") for t in TASKS for q in QUALITIES))
        assert not train & test


def test_patient_level_sides_mirror_the_poor_tiers_split(patient_splits):
    poor = patient_splits.get("phase", "poor")
    for tier in ("good", "medium"):
        s = patient_splits.get("phase", tier)
        assert _cells(s.test) == _cells(poor.test) and _cells(s.train) == _cells(poor.train)


def test_frame_level_split_is_the_papers_and_can_split_a_patient(frame_splits):
    crossing = 0
    for seed in SEEDS:
        for tier in QUALITIES:
            s = frame_splits.get("view", tier, seed)
            crossing += len(s.patients("train") & s.patients("test"))
            assert sum(_cells(s.test).values()) == round(0.2 * 232)
    assert crossing > 0  # why the patient-level split is the default


def test_splits_are_reproducible_per_seed_and_differ_between_seeds(camus_500, patient_splits):
    again = build_task_splits(camus_500, seeds=(1,))
    assert again.get("view", "good", 1) == patient_splits.get("view", "good", 1)
    assert patient_splits.get("view", "good", 0).test != patient_splits.get("view", "good", 1).test


def test_split_file_round_trips_and_resolves_to_frames(tmp_path, camus_500, patient_splits):
    path = patient_splits.save(tmp_path / "splits.json")
    loaded = load_split_file(path)
    assert loaded.splits == patient_splits.splits and loaded.unit == "patient" and loaded.seeds == SEEDS
    train, test = loaded.resolve(loaded.get("phase", "medium", 2), camus_500)
    assert len(train) + len(test) == 232 and {f.quality for f in train + test} == {"medium"}
    assert Counter(f.phase for f in train + test) == {"ED": 116, "ES": 116}


def test_resolving_against_changed_data_is_refused_naming_the_split_file(tmp_path, camus_500, patient_splits):
    loaded = load_split_file(patient_splits.save(tmp_path / "splits.json"))
    split = loaded.get("view", "poor")
    missing = [f for f in camus_500 if f.key != split.test[0]]
    with pytest.raises(DataError, match=r"splits\.json: 1 frame\(s\) of the view/poor split are not in the data"):
        loaded.resolve(split, missing)
    relabelled = label_only_frames(500, seed=9)
    with pytest.raises(DataError, match="the split was made when it was"):
        loaded.resolve(split, relabelled)


def test_split_file_of_an_unknown_version_is_refused(tmp_path, patient_splits):
    path = patient_splits.save(tmp_path / "splits.json")
    path.write_text(path.read_text().replace('"version": 1', '"version": 7'))
    with pytest.raises(DataError, match="version 7 is not supported"):
        load_split_file(path)


def test_sr_frames_exclude_every_test_patient(camus_500, patient_splits):
    frames = sr_training_frames(camus_500, patient_splits, seed=0)
    held_out = patient_splits.test_patients(0)
    assert frames and {f.quality for f in frames} == {"good"}
    assert not {f.patient for f in frames} & held_out
    assert len(frames) == sum(1 for f in camus_500 if f.quality == "good" and f.patient not in held_out)


def test_too_few_frames_for_the_composition_is_explained():
    frames = label_only_frames(40, mix="table1")
    heavy_poor = [f for f in frames if f.quality != "good"] + [f for f in frames if f.quality == "good"][:4]
    with pytest.raises(ConfigError, match=r"good tier.*needs \d+ frames to match the reference tier, only \d+"):
        build_task_splits(heavy_poor)


def test_unknown_task_tier_or_unit_is_refused(camus_500):
    with pytest.raises(ConfigError, match="unknown task 'quality'"):
        build_task_splits(camus_500, tasks=("quality",))
    with pytest.raises(ConfigError, match="unknown quality tier"):
        build_task_splits(camus_500, tiers=("great",))
    with pytest.raises(ConfigError, match="unknown split unit"):
        build_task_splits(camus_500, unit="study")


def test_an_even_quality_mix_sizes_each_cell_by_its_smallest_tier():
    from echosr_edge.data.tasks import reference_composition, task_sets_for

    frames = label_only_frames(120, mix="even", seed=3)
    test_patients = {f.patient for f in frames[: len(frames) // 5]}
    train_side = [f for f in frames if f.patient not in test_patients]
    per_tier = {t: Counter((f.view, f.phase) for f in train_side if f.quality == t) for t in QUALITIES}
    short = [c for c in per_tier["poor"] if min(per_tier[t][c] for t in QUALITIES) < per_tier["poor"][c]]
    assert short, "the case under test: on the training side some tier has fewer frames than poor in a cell"
    sets = task_sets_for(frames, test_patients)
    cells = {tier: Counter((f.view, f.phase) for f in train + test) for tier, (train, test) in sets.items()}
    assert cells["good"] == cells["medium"] == cells["poor"]  # one composition for every tier
    whole = reference_composition(frames)
    assert all(cells["poor"][c] <= whole[c] for c in whole)
