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
