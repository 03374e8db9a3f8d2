"""Checkpoints are recognised by their metadata; names are unique."""

import shutil

import pytest

from echosr_edge.errors import DataError
from echosr_edge.export.models import describe_checkpoint, discover_models


def test_models_are_named_by_role_and_task(tiny_checkpoints):
    models = discover_models([tiny_checkpoints["view"], tiny_checkpoints["sr"]])
    assert [(m.name, m.role, m.task) for m in models] == [("sr", "sr", None), ("view", "classifier", "view")]
    assert models[0].input_size == 8 and models[0].scale == 4 and models[1].labels == ("2CH", "4CH")


def test_a_second_sr_checkpoint_takes_its_file_name(tmp_path, tiny_checkpoints):
    gan = shutil.copyfile(tiny_checkpoints["sr"], tmp_path / "srgan.pt")
    models = discover_models([tiny_checkpoints["sr"], gan])
    assert [m.name for m in models] == ["sr", "srgan"] and all(m.arch == "srresnet" for m in models)


def test_a_folder_of_checkpoints_is_discovered(tiny_checkpoints):
    folder = tiny_checkpoints["sr"].parent
    assert {m.name for m in discover_models([folder])} >= {"sr", "view"}


def test_checkpoint_without_a_role_is_refused(tmp_path):
    with pytest.raises(DataError, match="role None"):
        describe_checkpoint(tmp_path / "x.pt", {"arch": "srresnet"})


def test_imgsz_not_divisible_by_the_scale_is_refused(tmp_path):
    with pytest.raises(DataError, match="not divisible by the SR scale 4"):
        describe_checkpoint(tmp_path / "x.pt", {"arch": "srresnet", "role": "sr", "scale": 4, "hr_size": 32}, hr_size=30)
