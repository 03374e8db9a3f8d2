"""Both CAMUS releases read through one API to the same records."""

from __future__ import annotations

import numpy as np
import pytest

from echosr_edge.data.camus import read_camus
from echosr_edge.data.layout import locate
from tests.data.conftest import TWIN_PATIENTS, TWIN_SIZE

COMMON_CFG_KEYS = ("ED", "ES", "NbFrame", "Sex", "Age")


def _by_key(items):
    return {item.key: item for item in items}


def test_same_patients_in_both_layouts_read_to_identical_frame_records(twin_trees):
    old = read_camus(twin_trees["2019"], strict=True, masks=True)
    new = read_camus(twin_trees["2023"], strict=True, masks=True)
    assert (old.release, new.release) == ("2019", "2023")
    assert len(old.frames) == len(new.frames) == 4 * TWIN_PATIENTS
    a, b = _by_key(old.frames), _by_key(new.frames)
    testing_2019 = set(old.groups["testing"])
    assert 0 < len(testing_2019) < TWIN_PATIENTS
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        assert (x.patient, x.view, x.phase, x.quality) == (y.patient, y.view, y.phase, y.quality)
        assert x.image.dtype == y.image.dtype == np.uint8 and x.image.shape == TWIN_SIZE
        assert np.array_equal(x.image, y.image), key
        assert x.spacing == y.spacing == (0.154, 0.308)
        assert {k: x.meta[k] for k in COMMON_CFG_KEYS} == {k: y.meta[k] for k in COMMON_CFG_KEYS}
        assert y.mask is not None
        if x.patient in testing_2019:  # the 2019 release ships its testing patients without masks
            assert x.mask is None
        else:
            assert np.array_equal(x.mask, y.mask), key
    assert x.source.suffix == ".mhd" and y.source.name.endswith(".nii.gz")


def test_same_patients_in_both_layouts_read_to_identical_cines(twin_trees):
    old = _by_key(read_camus(twin_trees["2019"], strict=True, cines=True).cines)
    new = _by_key(read_camus(twin_trees["2023"], strict=True, cines=True).cines)
    assert old.keys() == new.keys() and len(old) == 2 * TWIN_PATIENTS
    for key, x in old.items():
        y = new[key]
        assert np.array_equal(x.frames, y.frames)
        assert (x.ed_index, x.es_index, x.quality, x.spacing) == (y.ed_index, y.es_index, y.quality, y.spacing)
    assert x.source.name.endswith("_sequence.mhd") and y.source.name.endswith("_half_sequence.nii.gz")


def test_cine_holds_the_phase_frames_at_its_ed_and_es_indices(twin_trees):
    tree = read_camus(twin_trees["2023"], cines=True)
    frames = _by_key(tree.frames)
    for cine in tree.cines:
        assert cine.ed_index == 0 and cine.es_index == cine.frames.shape[0] - 1 == int(frames[f"{cine.key}_ED"].meta["ES"]) - 1
        for phase in ("ED", "ES"):
            assert np.array_equal(cine.phase_frame(phase), frames[f"{cine.key}_{phase}"].image)
        assert not np.array_equal(cine.frames[1], cine.frames[0])  # the sequence moves between them


def test_2019_testing_patients_are_grouped_and_have_no_masks(twin_trees):
    tree = read_camus(twin_trees["2019"], masks=True)
    assert set(tree.groups) == {"training", "testing"}
    testing = set(tree.groups["testing"])
    assert testing and not testing & set(tree.groups["training"])
    for f in tree.frames:
        assert (f.mask is None) == (f.patient in testing)
        assert ("LVef" in f.meta) == (f.patient not in testing)


def test_2023_subgroup_lists_become_groups(twin_trees):
    tree = read_camus(twin_trees["2023"])
    assert set(tree.groups) == {"training", "validation", "testing"}
    assert sorted(p for members in tree.groups.values() for p in members) == tree.patients


@pytest.mark.parametrize("release,sub", [("2019", "training"), ("2023", "database_nifti")])
def test_release_is_detected_from_the_release_root_an_image_folder_or_files(twin_trees, release, sub):
    assert locate(twin_trees[release]).release.name == release
    inner = locate(twin_trees[release] / sub)
    assert inner.release.name == release and len(inner.patients) >= 1
    patient_dir = inner.patients[0].path
    assert locate(patient_dir.parent).release.name == release


def test_masks_carry_the_camus_labels_inside_the_image(twin_trees):
    frames = read_camus(twin_trees["2023"], masks=True).frames
    for f in frames:
        assert set(np.unique(f.mask)) <= {0, 1, 2, 3} and {1, 2, 3} <= set(np.unique(f.mask))
        assert f.image[f.mask == 1].mean() < f.image[f.mask == 2].mean()  # dark cavity, bright wall
