"""The synthetic generator writes CAMUS's 2023 layout, and the CAMUS reader reads it back."""

from __future__ import annotations

import gzip
import shutil
from collections import Counter

import numpy as np
import pytest

from echosr_edge.data.camus import read_camus, read_patient
from echosr_edge.data.camus_cfg import parse_info_cfg
from echosr_edge.data.nifti import read_nifti, write_nifti
from echosr_edge.data.synth import allocate_qualities
from echosr_edge.errors import DataError


def test_synth_writes_the_camus_2023_file_layout(camus_root):
    patient = camus_root / "patient0001"
    names = sorted(p.name for p in patient.iterdir())
    assert names == [
        "Info_2CH.cfg",
        "Info_4CH.cfg",
        "patient0001_2CH_ED.nii.gz",
        "patient0001_2CH_ES.nii.gz",
        "patient0001_4CH_ED.nii.gz",
        "patient0001_4CH_ES.nii.gz",
    ]


def test_cfg_has_the_keys_camus_provides(camus_root):
    info = parse_info_cfg(camus_root / "patient0001" / "Info_2CH.cfg")
    for key in ("ED", "ES", "NbFrame", "Sex", "Age", "ImageQuality"):
        assert key in info
    assert info["ImageQuality"] in ("good", "medium", "poor")


def test_reader_returns_four_labelled_frames_per_patient(camus_root):
    tree = read_camus(camus_root)
    assert len(tree.frames) == 32 and not tree.skipped
    per_patient = Counter(f.patient for f in tree.frames)
    assert set(per_patient.values()) == {4}
    frame = tree.frames[0]
    assert frame.image.dtype == np.uint8 and frame.image.shape == (96, 80)
    assert frame.spacing == pytest.approx((0.3, 0.3))


def test_nifti_round_trip_keeps_orientation_and_spacing(tmp_path):
    image = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    write_nifti(tmp_path / "f.nii.gz", image, (0.2, 0.4))
    frames, spacing = read_nifti(tmp_path / "f.nii.gz")
    assert np.array_equal(frames[0], image)
    assert spacing == pytest.approx((0.2, 0.4))


def test_quality_allocation_follows_camus_table_1_proportions(rng=np.random.default_rng(0)):
    counts = Counter(allocate_qualities(500, "2CH", rng))
    assert counts == {"good": 217, "medium": 214, "poor": 69}
    counts = Counter(allocate_qualities(500, "4CH", rng))
    assert counts == {"good": 288, "medium": 165, "poor": 47}


def test_poor_frames_have_less_contrast_than_good_ones(camus_root):
    frames = read_camus(camus_root).frames

    def spread(tier):
        return np.mean([np.percentile(f.image, 95) - np.percentile(f.image, 50) for f in frames if f.quality == tier])

    assert spread("poor") < spread("good")


def test_truncated_nifti_is_skipped_with_its_file_named(tmp_path, camus_root):
    root = shutil.copytree(camus_root, tmp_path / "camus")
    target = root / "patient0002" / "patient0002_4CH_ES.nii.gz"
    target.write_bytes(target.read_bytes()[:40])
    tree = read_camus(root)
    assert len(tree.frames) == 28
    assert len(tree.skipped) == 1 and "patient0002_4CH_ES.nii.gz" in str(tree.skipped[0])
    with pytest.raises(DataError, match="patient0002_4CH_ES"):
        read_camus(root, strict=True)


def test_unknown_quality_value_names_the_cfg_file(tmp_path, camus_root):
    patient = shutil.copytree(camus_root / "patient0001", tmp_path / "patient0001")
    cfg = patient / "Info_4CH.cfg"
    cfg.write_text(cfg.read_text().replace("ImageQuality: ", "ImageQuality: Excellent#"))
    with pytest.raises(DataError, match=r"Info_4CH.cfg.*unknown ImageQuality"):
        read_patient(patient)


def test_missing_cfg_key_is_reported(tmp_path, camus_root):
    patient = shutil.copytree(camus_root / "patient0001", tmp_path / "patient0001")
    cfg = patient / "Info_2CH.cfg"
    cfg.write_text("\n".join(line for line in cfg.read_text().splitlines() if not line.startswith("ES:")))
    with pytest.raises(DataError, match="missing key.*ES"):
        read_patient(patient)


def test_gzip_of_garbage_is_a_data_error(tmp_path):
    bad = tmp_path / "x.nii.gz"
    bad.write_bytes(gzip.compress(b"not a nifti header" * 30))
    with pytest.raises(DataError, match="not a readable NIfTI"):
        read_nifti(bad)
