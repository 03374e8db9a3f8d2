"""'robust' augmentation keeps labels and shapes, varies frames the ways SR and INT8 output vary, and is seeded."""

import pytest
import torch

from echosr_edge.errors import ConfigError
from echosr_edge.train.augment import check_augment, robust_augment
from echosr_edge.train.classifier import ClassifierTrainConfig


def _frames() -> torch.Tensor:
    x = torch.zeros(8, 1, 32, 32)
    x[:, :, 8:24, 8:24] = 0.8  # a bright square on black: edges that smoothing softens
    return x


def test_augmented_frames_keep_shape_and_range_and_differ_from_the_input():
    x = _frames()
    out = robust_augment(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float((out - x).abs().mean()) > 0.005
    assert torch.equal(x, _frames())  # the input is left alone


def test_the_same_seed_draws_the_same_augmentation():
    a = robust_augment(_frames(), torch.Generator().manual_seed(3))
    b = robust_augment(_frames(), torch.Generator().manual_seed(3))
    c = robust_augment(_frames(), torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_some_frames_are_smoothed_like_an_sr_input_band():
    x = _frames()
    out = robust_augment(x, torch.Generator().manual_seed(0))
    # the edge of the square: an abrupt step in x, a ramp in a smoothed copy
    steps = (out[:, 0, 16, 7] - out[:, 0, 16, 9]).abs()
    assert (steps < 0.5).any() and (steps > 0.5).any()


def test_an_unknown_augmentation_is_refused_by_name():
    with pytest.raises(ConfigError, match="unknown augmentation 'mixup'; choices: none, robust"):
        check_augment("mixup")
    with pytest.raises(ConfigError, match="unknown augmentation"):
        ClassifierTrainConfig(augment="mixup")


def test_a_classifier_trained_with_robust_augmentation_is_reproducible_and_differs_from_plain(frames):
    from echosr_edge.train.classifier import train_classifier

    def weights(augment: str) -> torch.Tensor:
        config = ClassifierTrainConfig(task="view", input_size=32, epochs=1, device="cpu", augment=augment)
        model, history = train_classifier(frames, config)
        assert len(history) == 1
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    robust = weights("robust")
    assert torch.equal(robust, weights("robust"))
    assert not torch.equal(robust, weights("none"))


def test_the_cli_offers_exactly_the_known_augmentations():
    from click.testing import CliRunner

    from echosr_edge.cli import main
    from echosr_edge.train.augment import AUGMENTS

    help_text = CliRunner().invoke(main, ["train", "classifier", "--help"]).output
    assert "[" + "|".join(AUGMENTS) + "]" in help_text
