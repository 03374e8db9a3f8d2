"""Synthetic non-cardiac scenes for outlier exposure and for measuring refusal."""

import numpy as np
import pytest

from echosr_edge.data.outliers import HELD_OUT, KINDS, TRAINING_KINDS, crop_to_field, outlier_frames, render_outlier


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_a_grey_frame_of_the_asked_size(kind):
    image = render_outlier(kind, np.random.default_rng(0), size=(120, 96))
    assert image.shape == (120, 96) and image.dtype == np.uint8


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "blank"])
def test_every_kind_but_blank_has_structure(kind):
    assert render_outlier(kind, np.random.default_rng(1), size=(120, 96)).std() > 5


def test_held_out_kinds_are_never_drawn_for_training():
    assert HELD_OUT and not set(HELD_OUT) & set(TRAINING_KINDS)
    assert {f.meta["kind"] for f in outlier_frames(20)} == set(TRAINING_KINDS)


def test_outliers_are_other_for_the_cardiac_task_and_camus_frames_are_cardiac(camus_root):
    from echosr_edge.data.camus import read_camus

    assert {f.label("cardiac") for f in outlier_frames(4)} == {"other"}
    assert {f.label("cardiac") for f in read_camus(camus_root).frames} == {"cardiac"}


def test_the_same_seed_gives_the_same_frames():
    a, b = outlier_frames(3, seed=5), outlier_frames(3, seed=5)
    assert all((x.image == y.image).all() for x, y in zip(a, b))


def test_an_unknown_kind_names_the_known_ones():
    with pytest.raises(ValueError, match="liver"):
        render_outlier("lung", np.random.default_rng(0))


def test_a_cropped_outlier_is_cut_to_its_field():
    image = np.zeros((50, 40), np.uint8)
    image[10:30, 5:25] = 100
    assert crop_to_field(image).shape == (20, 20)
    assert crop_to_field(np.zeros((50, 40), np.uint8)).shape == (50, 40)  # a blank frame stays whole
