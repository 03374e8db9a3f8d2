"""Patient-level splits never put one patient on both sides."""

from echosr_edge.data.camus import read_camus
from echosr_edge.data.splits import split_patients


def test_no_patient_is_on_both_sides_of_the_split(camus_root):
    frames = read_camus(camus_root).frames
    for seed in range(5):
        train, test = split_patients(frames, 0.25, seed)
        assert train and test
        assert not {f.patient for f in train} & {f.patient for f in test}
        assert len(train) + len(test) == len(frames)


def test_split_is_reproducible_for_a_seed(camus_root):
    frames = read_camus(camus_root).frames
    a = split_patients(frames, 0.25, 3)[1]
    b = split_patients(frames, 0.25, 3)[1]
    assert [f.key for f in a] == [f.key for f in b]


def test_stratified_patient_split_keeps_patients_whole_and_spreads_each_stratum():
    from collections import Counter

    from echosr_edge.data.splits import patient_strata, stratified_split_patients
    from tests.data.conftest import label_only_frames

    frames = label_only_frames(200)
    train, test = stratified_split_patients(frames, 0.2, seed=1)
    assert not {f.patient for f in train} & {f.patient for f in test}
    assert len({f.patient for f in test}) == 40
    strata = patient_strata(frames)
    whole = Counter(strata.values())
    held = Counter(strata[p] for p in {f.patient for f in test})
    for stratum, n in whole.items():
        assert abs(held.get(stratum, 0) - 0.2 * n) <= 1, stratum
