"""Public SR weight layouts load into our architectures, RGB convs folded to one channel."""

import pytest

torch = pytest.importorskip("torch", reason="models need the 'train' extra (torch)")

from echosr_edge.errors import DataError  # noqa: E402
from echosr_edge.models.pretrained import LUMA_RGB, load_pretrained_sr, read_pretrained_sr  # noqa: E402

F, B = 8, 2  # features and residual blocks of the fake checkpoints


def _t(*shape):
    return torch.randn(*shape)


def _bn(prefix):
    return {f"{prefix}.weight": _t(F), f"{prefix}.bias": _t(F), f"{prefix}.running_mean": _t(F),
            f"{prefix}.running_var": torch.rand(F) + 0.5, f"{prefix}.num_batches_tracked": torch.tensor(7)}


def basicsr_msrresnet():
    sd = {"conv_first.weight": _t(F, 3, 3, 3), "conv_first.bias": _t(F)}
    for i in range(B):
        for c in ("conv1", "conv2"):
            sd[f"body.{i}.{c}.weight"], sd[f"body.{i}.{c}.bias"] = _t(F, F, 3, 3), _t(F)
    for name in ("upconv1", "upconv2"):
        sd[f"{name}.weight"], sd[f"{name}.bias"] = _t(4 * F, F, 3, 3), _t(4 * F)
    sd["conv_hr.weight"], sd["conv_hr.bias"] = _t(F, F, 3, 3), _t(F)
    sd["conv_last.weight"], sd["conv_last.bias"] = _t(3, F, 3, 3), _t(3)
    return sd


def srresnet_tutorial():
    sd = {"conv_block1.conv_block.0.weight": _t(F, 3, 9, 9), "conv_block1.conv_block.0.bias": _t(F),
          "conv_block1.conv_block.1.weight": _t(1)}
    for i in range(B):
        p = f"residual_blocks.{i}"
        sd[f"{p}.conv_block1.conv_block.0.weight"], sd[f"{p}.conv_block1.conv_block.0.bias"] = _t(F, F, 3, 3), _t(F)
        sd.update(_bn(f"{p}.conv_block1.conv_block.1"))
        sd[f"{p}.conv_block1.conv_block.2.weight"] = _t(1)
        sd[f"{p}.conv_block2.conv_block.0.weight"], sd[f"{p}.conv_block2.conv_block.0.bias"] = _t(F, F, 3, 3), _t(F)
        sd.update(_bn(f"{p}.conv_block2.conv_block.1"))
    sd["conv_block2.conv_block.0.weight"], sd["conv_block2.conv_block.0.bias"] = _t(F, F, 3, 3), _t(F)
    sd.update(_bn("conv_block2.conv_block.1"))
    for j in range(2):
        sd[f"subpixel_convolutional_blocks.{j}.conv.weight"] = _t(4 * F, F, 3, 3)
        sd[f"subpixel_convolutional_blocks.{j}.conv.bias"] = _t(4 * F)
        sd[f"subpixel_convolutional_blocks.{j}.prelu.weight"] = _t(1)
    sd["conv_block3.conv_block.0.weight"], sd["conv_block3.conv_block.0.bias"] = _t(3, F, 9, 9), _t(3)
    return sd


def srgan_sequential(bias_before_bn=False):
    sd = {"conv1.0.weight": _t(F, 3, 9, 9), "conv1.0.bias": _t(F), "conv1.1.weight": _t(1)}
    for i in range(B):
        sd[f"trunk.{i}.rcb.0.weight"] = _t(F, F, 3, 3)
        sd.update(_bn(f"trunk.{i}.rcb.1"))
        sd[f"trunk.{i}.rcb.2.weight"] = _t(1)
        sd[f"trunk.{i}.rcb.3.weight"] = _t(F, F, 3, 3)
        sd.update(_bn(f"trunk.{i}.rcb.4"))
        if bias_before_bn:
            sd[f"trunk.{i}.rcb.0.bias"], sd[f"trunk.{i}.rcb.3.bias"] = _t(F), _t(F)
    sd["conv2.0.weight"] = _t(F, F, 3, 3)
    sd.update(_bn("conv2.1"))
    for j in range(2):
        sd[f"upsampling.{j}.upsample_block.0.weight"] = _t(4 * F, F, 3, 3)
        sd[f"upsampling.{j}.upsample_block.0.bias"] = _t(4 * F)
        sd[f"upsampling.{j}.upsample_block.2.weight"] = _t(1)
    sd["conv3.weight"], sd["conv3.bias"] = _t(3, F, 9, 9), _t(3)
    return sd


def srgan_blocks():
    sd = {"block1.0.weight": _t(F, 3, 9, 9), "block1.0.bias": _t(F), "block1.1.weight": _t(1)}
    for k in range(2, 2 + B):
        for c in ("conv1", "conv2"):
            sd[f"block{k}.{c}.weight"], sd[f"block{k}.{c}.bias"] = _t(F, F, 3, 3), _t(F)
        sd.update(_bn(f"block{k}.bn1"))
        sd.update(_bn(f"block{k}.bn2"))
        sd[f"block{k}.prelu.weight"] = _t(1)
    end, up = 2 + B, 3 + B
    sd[f"block{end}.0.weight"], sd[f"block{end}.0.bias"] = _t(F, F, 3, 3), _t(F)
    sd.update(_bn(f"block{end}.1"))
    for j in range(2):
        sd[f"block{up}.{j}.conv.weight"], sd[f"block{up}.{j}.conv.bias"] = _t(4 * F, F, 3, 3), _t(4 * F)
        sd[f"block{up}.{j}.prelu.weight"] = _t(1)
    sd[f"block{up}.2.weight"], sd[f"block{up}.2.bias"] = _t(3, F, 9, 9), _t(3)
    return sd


def _grey_last(weight, bias):
    luma = torch.tensor(LUMA_RGB)
    return (weight * luma.view(3, 1, 1, 1)).sum(0, keepdim=True), (bias * luma).sum().view(1)


def test_basicsr_msrresnet_loads_into_msrresnet_with_grey_first_and_last_conv(tmp_path):
    sd = basicsr_msrresnet()
    torch.save({"params": sd}, tmp_path / "MSRResNet_x4.pth")
    model, info = load_pretrained_sr(tmp_path / "MSRResNet_x4.pth")
    assert info.layout == "basicsr-msrresnet" and info.arch == "msrresnet"
    assert info.config == {"in_channels": 1, "features": F, "blocks": B, "scale": 4}
    assert torch.allclose(model.conv_first.weight, sd["conv_first.weight"].sum(1, keepdim=True))
    weight, bias = _grey_last(sd["conv_last.weight"], sd["conv_last.bias"])
    assert torch.allclose(model.conv_last.weight, weight) and torch.allclose(model.conv_last.bias, bias)
    assert torch.equal(model.body[1].conv2.weight, sd["body.1.conv2.weight"])
    assert tuple(model(torch.rand(1, 1, 8, 8)).shape) == (1, 1, 32, 32)


def test_tutorial_layout_maps_every_block_into_srresnet(tmp_path):
    sd = srresnet_tutorial()
    torch.save({f"net.{k}": v for k, v in sd.items()}, tmp_path / "srgan_generator.pth")  # a Generator wraps .net
    model, info = load_pretrained_sr(tmp_path / "srgan_generator.pth")
    assert info.layout == "srresnet-tutorial" and info.config["blocks"] == B and info.config["scale"] == 4
    assert torch.equal(model.body[1].body[3].weight, sd["residual_blocks.1.conv_block2.conv_block.0.weight"])
    assert torch.equal(model.body[0].body[4].running_var, sd["residual_blocks.0.conv_block2.conv_block.1.running_var"])
    assert torch.equal(model.upsample[1].act.weight, sd["subpixel_convolutional_blocks.1.prelu.weight"])
    assert torch.allclose(model.head[0].weight, sd["conv_block1.conv_block.0.weight"].sum(1, keepdim=True))
    weight, _ = _grey_last(sd["conv_block3.conv_block.0.weight"], sd["conv_block3.conv_block.0.bias"])
    assert torch.allclose(model.tail.weight, weight)


def test_sequential_layout_without_conv_biases_gets_zero_biases(tmp_path):
    sd = srgan_sequential(bias_before_bn=False)
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 12}, tmp_path / "srresnet.pth.tar")
    model, info = load_pretrained_sr(tmp_path / "srresnet.pth.tar")
    assert info.layout == "srgan-sequential"
    assert torch.equal(model.body[0].body[0].bias, torch.zeros(F))
    assert torch.equal(model.body[1].body[0].weight, sd["trunk.1.rcb.0.weight"])
    assert torch.equal(model.body_tail[1].running_mean, sd["conv2.1.running_mean"])
    assert any("neutral value" in n for n in info.notes)


def test_numbered_block_layout_maps_trunk_upsampling_and_tail(tmp_path):
    sd = srgan_blocks()
    torch.save(sd, tmp_path / "netG_epoch_4_100.pth")
    model, info = load_pretrained_sr(tmp_path / "netG_epoch_4_100.pth")
    assert info.layout == "srgan-blocks" and info.config["blocks"] == B
    assert torch.equal(model.body[1].body[2].weight, sd["block3.prelu.weight"])
    assert torch.equal(model.upsample[0].conv.weight, sd[f"block{3 + B}.0.conv.weight"])


def test_our_own_checkpoint_is_a_pretrained_start(tmp_path):
    from echosr_edge.models.checkpoint import save_checkpoint
    from echosr_edge.models.registry import build_model

    source = build_model("srresnet", features=F, blocks=B)
    save_checkpoint(tmp_path / "sr.pt", source, "srresnet", {"features": F, "blocks": B, "scale": 4}, {"role": "sr"})
    model, info = load_pretrained_sr(tmp_path / "sr.pt")
    assert info.layout == "echosr-edge"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), source.state_dict().values()))


def test_an_unknown_layout_is_refused_naming_the_file_and_its_keys(tmp_path):
    torch.save({"encoder.weight": _t(4, 4)}, tmp_path / "other.pth")
    with pytest.raises(DataError, match=r"other\.pth: not a known SRResNet/SRGAN layout.*encoder\.weight"):
        read_pretrained_sr(tmp_path / "other.pth")


def test_a_layout_with_a_stray_key_names_it(tmp_path):
    sd = srresnet_tutorial()
    sd["residual_blocks.0.attention.weight"] = _t(F)
    torch.save(sd, tmp_path / "odd.pth")
    with pytest.raises(DataError, match=r"srresnet-tutorial layout but keys the layout does not know: residual_blocks\.0\.attention"):
        read_pretrained_sr(tmp_path / "odd.pth")


def test_a_size_that_differs_from_the_training_config_is_a_clear_error(tmp_path):
    torch.save(srgan_blocks(), tmp_path / "g.pth")
    with pytest.raises(DataError, match="blocks=2, but the training config says blocks=16"):
        load_pretrained_sr(tmp_path / "g.pth", expect={"arch": "srresnet", "features": F, "blocks": 16})


def test_a_pickled_model_object_is_refused_with_the_way_to_resave_it(tmp_path):
    from echosr_edge.models.registry import build_model

    torch.save(build_model("srresnet", features=4, blocks=1), tmp_path / "whole_model.pth")
    with pytest.raises(DataError, match=r"weights_only=True.*model\.state_dict\(\)"):
        read_pretrained_sr(tmp_path / "whole_model.pth")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="pretrained weights file not found"):
        read_pretrained_sr(tmp_path / "absent.pth")
