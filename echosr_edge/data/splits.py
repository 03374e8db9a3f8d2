"""Patient-level splits: a patient's frames all fall on one side."""

from __future__ import annotations

import numpy as np

from echosr_edge.data.records import Frame


def split_patients(
    frames: list[Frame], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Frame], list[Frame]]:
    """Split frames into (train, test) by patient, seeded; no patient is on both sides."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    patients = sorted({f.patient for f in frames})
    if len(patients) < 2:
        raise ValueError("a patient-level split needs at least 2 patients")
    order = np.random.default_rng(seed).permutation(len(patients))
    n_test = min(len(patients) - 1, max(1, round(test_fraction * len(patients))))
    test_patients = {patients[i] for i in order[:n_test]}
    train = [f for f in frames if f.patient not in test_patients]
    test = [f for f in frames if f.patient in test_patients]
    return train, test
