"""Every registered architecture builds and maps shapes as the paper's models do."""

import pytest

torch = pytest.importorskip("torch", reason="models need the 'train' extra (torch)")

from echosr_edge.errors import ConfigError  # noqa: E402
from echosr_edge.models.registry import ARCHITECTURES, SR_ARCHITECTURES, build_model  # noqa: E402

TINY = {
    "srresnet": {"features": 8, "blocks": 2},
    "msrresnet": {"features": 8, "blocks": 2},
    "srgan_discriminator": {"features": 4},
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
    expected = {"srgan_discriminator": (2, 1), "resnet18": (2, 2)}
    assert tuple(y.shape) == expected.get(arch, (2, 1, 128, 128))


def test_every_sr_architecture_is_registered():
    assert set(SR_ARCHITECTURES) <= set(ARCHITECTURES)


def test_srresnet_default_is_the_papers_size():
    model = build_model("srresnet")
    blocks = [m for m in model.body]
    assert len(blocks) == 16
    assert model.head[0].kernel_size == (9, 9) and model.tail.kernel_size == (9, 9)
    assert model.head[0].out_channels == 64 and model.head[0].in_channels == 1
    block = blocks[0].body
    kinds = [type(m).__name__ for m in block]
    assert kinds == ["Conv2d", "BatchNorm2d", "PReLU", "Conv2d", "BatchNorm2d"]
    assert [type(m).__name__ for m in model.upsample[0].children()] == ["Conv2d", "PixelShuffle", "PReLU"]
    assert len(model.upsample) == 2 and model.upsample[0].conv.out_channels == 256


def test_discriminator_follows_ledig_channels_and_strides():
    model = build_model("srgan_discriminator")
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert model.head[1].out_features == 1024 and model.head[3].out_features == 1
    # a 96×96 HR patch reaches the dense layers as 6×6×512, as in the paper
    assert tuple(model.features(torch.rand(1, 1, 96, 96)).shape) == (1, 512, 6, 6)


def test_unknown_architecture_suggests_the_closest():
    with pytest.raises(ConfigError, match="Did you mean 'srresnet'"):
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


def test_interpolation_start_is_close_to_bicubic_before_training():
    import numpy as np

    from echosr_edge.data.preprocess import bicubic_up
    from echosr_edge.metrics import psnr
    from echosr_edge.models.interp_init import init_as_interpolation, nearest_to_bicubic_taps

    assert nearest_to_bicubic_taps(4).sum() == pytest.approx(1.0, abs=1e-4)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:24, 0:24] / 24.0
    lr = np.clip(0.5 + 0.3 * np.sin(6 * xx) * np.cos(4 * yy) + 0.02 * rng.standard_normal((24, 24)), 0, 1).astype(np.float32)
    random_model = build_model("srresnet", features=16, blocks=2).eval()
    model = init_as_interpolation(build_model("srresnet", features=16, blocks=2)).eval()
    with torch.no_grad():
        out = model(torch.from_numpy(lr)[None, None])[0, 0].numpy()
        random_out = random_model(torch.from_numpy(lr)[None, None])[0, 0].numpy()
    reference = bicubic_up(lr, 4)
    crop = (slice(8, -8), slice(8, -8))  # compare away from the zero-padded border
    assert psnr(reference[crop], np.clip(out, 0, 1)[crop]) > 35.0
    assert psnr(reference[crop], np.clip(random_out, 0, 1)[crop]) < 25.0
