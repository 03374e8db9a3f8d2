"""Patient-level splits: a patient's frames all fall on one side."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from echosr_edge.data.records import VIEWS, Frame
from echosr_edge.errors import ConfigError


def split_patients(
    frames: list[Frame], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Frame], list[Frame]]:
    """Split frames into (train, test) by patient, seeded; no patient is on both sides."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError("test_fraction must be between 0 and 1")
    patients = sorted({f.patient for f in frames})
    if len(patients) < 2:
        raise ConfigError("a patient-level split needs at least 2 patients")
    order = np.random.default_rng(seed).permutation(len(patients))
    n_test = min(len(patients) - 1, max(1, round(test_fraction * len(patients))))
    test_patients = {patients[i] for i in order[:n_test]}
    train = [f for f in frames if f.patient not in test_patients]
    test = [f for f in frames if f.patient in test_patients]
    return train, test


def largest_remainder(sizes: list[int], fraction: float, total: int) -> list[int]:
    """Per-stratum shares of ``total`` proportional to ``fraction`` × size, summing to ``total``.

    Ties in the remainders go to the larger stratum, then the earlier one (deterministic).
    """
    exact = np.array(sizes, dtype=float) * fraction
    shares = np.minimum(np.floor(exact).astype(int), sizes)
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - shares[i]), -sizes[i], i))
    for i in order:
        if shares.sum() >= total:
            break
        if shares[i] < sizes[i]:
            shares[i] += 1
    return shares.tolist()


def patient_strata(frames: list[Frame]) -> dict[str, tuple[str, ...]]:
    """Each patient's stratum: the quality label of each of its views ('-' where absent)."""
    quality: dict[str, dict[str, str]] = defaultdict(dict)
    for f in frames:
        quality[f.patient][f.view] = f.quality
    return {p: tuple(q.get(v, "-") for v in VIEWS) for p, q in quality.items()}


def stratified_test_patients(frames: list[Frame], test_fraction: float = 0.2, seed: int = 0) -> set[str]:
    """The test side of a patient-level split stratified by the patients' (2CH, 4CH) quality.

    ``round(test_fraction × patients)`` patients are drawn, spread over the strata by largest
    remainder, seeded. Every tier's frames are then split about ``test_fraction`` per view.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError("test_fraction must be between 0 and 1")
    strata = patient_strata(frames)
    if len(strata) < 2:
        raise ConfigError("a patient-level split needs at least 2 patients")
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for patient in sorted(strata):
        groups[strata[patient]].append(patient)
    keys = sorted(groups)
    n_test = min(len(strata) - 1, max(1, round(test_fraction * len(strata))))
    shares = largest_remainder([len(groups[k]) for k in keys], test_fraction, n_test)
    rng = np.random.default_rng([seed, 20_011])
    test: set[str] = set()
    for key, share in zip(keys, shares):
        members = groups[key]
        test.update(members[i] for i in rng.permutation(len(members))[:share])
    return test


def stratified_split_patients(
    frames: list[Frame], test_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Frame], list[Frame]]:
    """(train, test) by patient, stratified by the patients' per-view quality; seeded."""
    test_patients = stratified_test_patients(frames, test_fraction, seed)
    return [f for f in frames if f.patient not in test_patients], [f for f in frames if f.patient in test_patients]
