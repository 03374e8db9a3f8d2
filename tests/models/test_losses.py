"""SRGAN losses: VGG19 features from a local file, a stated MSE fallback, the adversarial terms."""

import logging

import pytest

torch = pytest.importorskip("torch", reason="models need the 'train' extra (torch)")

from echosr_edge.errors import DataError  # noqa: E402
from echosr_edge.models.losses import (  # noqa: E402
    VGG_FEATURE_SCALE,
    VGGFeatures,
    content_loss_from,
    discriminator_loss,
    generator_adversarial_loss,
)


@pytest.fixture()
def vgg_file(tmp_path):
    """The first blocks of a torchvision VGG19 state dict (enough for relu2_2), random weights."""
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers(cfgs["E"])[:9]  # the layout of vgg19().features
    path = tmp_path / "vgg19-test.pth"
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return path, features


def test_vgg_features_replicate_grey_to_rgb_and_scale_as_ledig(vgg_file):
    path, reference = vgg_file
    vgg = VGGFeatures(path, layer="relu2_2")
    x = torch.rand(2, 1, 16, 16)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference.eval()((x.expand(-1, 3, -1, -1) - mean) / std) * VGG_FEATURE_SCALE
        got = vgg(x)
    assert torch.allclose(got, expected, atol=1e-6)
    assert not any(p.requires_grad for p in vgg.parameters())
    vgg.train()
    assert not vgg.net.training


def test_vgg_content_loss_reports_its_layer(vgg_file):
    loss, note = content_loss_from(vgg_file[0], layer="relu2_2")
    assert note is None and loss.kind == "vgg19_relu2_2"
    a, b = torch.rand(1, 1, 16, 16), torch.rand(1, 1, 16, 16)
    assert loss(a, a).item() == 0.0 and loss(a, b).item() > 0.0


def test_without_vgg_weights_the_content_loss_is_mse_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        loss, note = content_loss_from(None)
    assert loss.kind == "mse" and "no VGG19 weights" in note and "SRGAN-MSE" in note
    assert "no VGG19 weights" in caplog.text
    a, b = torch.zeros(1, 1, 4, 4), torch.full((1, 1, 4, 4), 0.5)
    assert loss(a, b).item() == pytest.approx(0.25)


def test_a_file_without_vgg_features_is_refused(tmp_path):
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "not_vgg.pth")
    with pytest.raises(DataError, match="not_vgg.pth: not a torchvision VGG19 state dict"):
        VGGFeatures(tmp_path / "not_vgg.pth", layer="relu2_2")


def test_adversarial_losses_are_the_papers_log_terms():
    confident_real, confident_fake = torch.tensor([[20.0]]), torch.tensor([[-20.0]])
    assert discriminator_loss(confident_real, confident_fake).item() == pytest.approx(0.0, abs=1e-6)
    assert generator_adversarial_loss(torch.tensor([[0.0]])).item() == pytest.approx(0.6931, abs=1e-4)  # −log ½
    assert generator_adversarial_loss(confident_fake).item() == pytest.approx(20.0, abs=1e-3)
