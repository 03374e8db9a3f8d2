"""Export profiles: which models the default and realtime profiles run, and clear refusals."""

from pathlib import Path

import pytest

from echosr_edge.errors import DataError
from echosr_edge.export.models import ExportModel
from echosr_edge.export.profiles import plan_profiles


def _sr(name, arch="srresnet", model="srresnet"):
    return ExportModel(name, "sr", arch, Path(f"/ckpt/{name}.pt"), 256, 64, scale=4, meta={"model": model})


def _clf(name, task, size):
    return ExportModel(name, "classifier", "resnet18", Path(f"/ckpt/{name}.pt"), 256, size, task=task, labels=("a", "b"))


def test_a_default_export_with_one_sr_model_writes_no_profiles():
    models = [_sr("sr"), _clf("view", "view", 128)]
    assert plan_profiles(models) == (models, {})


def test_realtime_takes_the_student_and_the_classifiers_trained_at_the_smallest_size():
    models = [_sr("sr"), _sr("rfdn", "rfdn", "rfdn"), _clf("view", "view", 128), _clf("view_64", "view", 64),
              _clf("phase", "phase", 128), _clf("phase_64", "phase", 64)]
    out, profiles = plan_profiles(models, "realtime")
    assert out == models
    assert profiles == {"default": {"sr": "sr", "view": "view", "phase": "phase"},
                        "realtime": {"sr": "rfdn", "view": "view_64", "phase": "phase_64"}}


def test_a_realtime_input_size_nobody_trained_at_re_exports_the_classifier_at_that_size():
    models = [_sr("sr"), _sr("espcn", "espcn", "espcn"), _clf("view", "view", 128)]
    out, profiles = plan_profiles(models, "realtime", realtime_input_size=96)
    extra = out[-1]
    assert (extra.name, extra.input_size, extra.checkpoint) == ("view_96", 96, Path("/ckpt/view.pt"))
    assert profiles["realtime"] == {"sr": "espcn", "view": "view_96"}


def test_the_srgan_generator_is_never_the_default_teacher():
    models = [_sr("srgan", model="srgan"), _sr("sr"), _sr("rfdn", "rfdn", "rfdn"), _clf("view", "view", 64)]
    _, profiles = plan_profiles(models, "realtime")
    assert profiles["default"]["sr"] == "sr" and profiles["realtime"]["sr"] == "rfdn"


def test_a_realtime_export_without_a_student_says_how_to_make_one():
    with pytest.raises(DataError, match=r"needs a distilled student.*echosr-edge train distill.*--student-checkpoint"):
        plan_profiles([_sr("sr"), _clf("view", "view", 128)], "realtime")


def test_several_students_without_a_choice_are_refused_naming_them():
    models = [_sr("sr"), _sr("rfdn", "rfdn"), _sr("espcn", "espcn"), _clf("view", "view", 128)]
    with pytest.raises(DataError, match=r"several students.*rfdn.*espcn.*--student-checkpoint"):
        plan_profiles(models, "realtime")
    _, profiles = plan_profiles(models, "realtime", student_checkpoint=Path("/ckpt/espcn.pt"))
    assert profiles["realtime"]["sr"] == "espcn"


def test_a_student_checkpoint_that_is_not_a_student_is_refused():
    models = [_sr("sr"), _sr("rfdn", "rfdn"), _clf("view", "view", 128)]
    with pytest.raises(DataError, match=r"sr\.pt: not a distilled student"):
        plan_profiles(models, "realtime", student_checkpoint=Path("/ckpt/sr.pt"))
