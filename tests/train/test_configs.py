"""The named schedules: "paper" is the study's, "smoke" keeps its architectures."""

import pytest

pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")

from echosr_edge.errors import ConfigError  # noqa: E402
from echosr_edge.train.configs import SCHEDULES, get_schedule  # noqa: E402


def test_paper_schedule_is_the_studys():
    paper = get_schedule("paper")
    assert (paper.sr.epochs, paper.srgan.epochs, paper.classifier.epochs) == (4000, 8000, 10)
    for config in (paper.sr, paper.srgan, paper.classifier):
        assert config.batch == 16 and config.lr == 1e-4
    assert paper.srgan.adversarial_weight == 1e-3
    assert paper.sr.lr_schedule == "constant" and paper.sr.init == "random"


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_trains_the_papers_architectures(name):
    schedule = get_schedule(name)
    for config in (schedule.sr, schedule.srgan):
        assert (config.arch, config.features, config.blocks, config.scale) == ("srresnet", 64, 16, 4)
        assert config.hr_size == schedule.hr_size
    assert schedule.quality.task == "quality" and schedule.quality.balanced


def test_with_seed_reseeds_every_trainer():
    seeded = get_schedule("smoke").with_seed(7)
    assert {seeded.sr.seed, seeded.srgan.seed, seeded.classifier.seed, seeded.quality.seed} == {7}


def test_an_unknown_schedule_suggests_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'smoke'"):
        get_schedule("smok")


def test_paper_classifiers_train_exactly_their_epochs():
    paper = get_schedule("paper")
    assert paper.classifier.min_steps == 0 and paper.quality.min_steps == 0
    assert paper.classifier.epochs_for(23) == paper.classifier.epochs_for(2000) == 10


def test_smoke_classifiers_take_at_least_40_optimiser_steps_on_a_small_task_set():
    smoke = get_schedule("smoke").classifier
    # 23 frames at batch 16: 2 steps an epoch, so 4 epochs would be 8 steps; 20 epochs make 40.
    assert smoke.epochs_for(23) == 20
    assert smoke.epochs_for(14) == 40  # one step an epoch
    assert smoke.epochs_for(500) == 4  # 32 steps an epoch: the schedule's own 4 epochs already exceed 40 steps
    assert get_schedule("smoke").quality.min_steps == smoke.min_steps == 40


def test_a_negative_step_floor_is_refused():
    from echosr_edge.train.classifier import ClassifierTrainConfig

    with pytest.raises(ConfigError, match="min_steps"):
        ClassifierTrainConfig(min_steps=-1)
