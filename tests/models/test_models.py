"""Every registered architecture builds and maps shapes as the paper's models do."""

import pytest

torch = pytest.importorskip("torch", reason="models need the 'train' extra (torch)")

from echosr_edge.models.registry import ARCHITECTURES, build_model  # noqa: E402

TINY = {
    "srresnet": {"features": 8, "blocks": 2},
    "resnet18": {"num_classes": 2},
    "espcn": {"features": 8, "features2": 4},
    "rfdn": {"features": 8, "blocks": 2},
}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_registered_architecture_output_shape(arch):
    model = build_model(arch, **TINY[arch]).eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        y = model(x)
    expected = (2, 2) if arch == "resnet18" else (2, 1, 128, 128)
    assert tuple(y.shape) == expected


def test_srresnet_default_is_the_papers_size():
    model = build_model("srresnet")
    blocks = [m for m in model.body]
    assert len(blocks) == 16
    assert model.head[0].kernel_size == (9, 9) and model.tail.kernel_size == (9, 9)
    assert model.head[0].out_channels == 64 and model.head[0].in_channels == 1


def test_unknown_architecture_suggests_the_closest():
    with pytest.raises(KeyError, match="Did you mean 'srresnet'"):
        build_model("srresnt")


def test_imagenet_weights_fold_rgb_conv_to_one_channel(tmp_path):
    from torchvision.models import resnet18

    from echosr_edge.models.classifier import ResNet18Classifier

    rgb = resnet18(weights=None)
    torch.save(rgb.state_dict(), tmp_path / "resnet18-test.pth")
    model = ResNet18Classifier(num_classes=2)
    model.load_imagenet(tmp_path / "resnet18-test.pth")
    expected = rgb.state_dict()["conv1.weight"].sum(dim=1, keepdim=True)
    assert torch.allclose(model.net.conv1.weight, expected)
    assert torch.equal(model.net.layer1[0].conv1.weight, rgb.layer1[0].conv1.weight)
