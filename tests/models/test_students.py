"""The real-time students are far cheaper than SRResNet, as the MAC counter measures."""

import pytest

torch = pytest.importorskip("torch", reason="models need the 'train' extra (torch)")

from echosr_edge.models.macs import count_macs  # noqa: E402
from echosr_edge.models.registry import build_model  # noqa: E402


def test_srresnet_costs_about_two_million_macs_per_lr_pixel():
    macs = count_macs(build_model("srresnet"), (64, 64))
    assert macs.per_input_pixel == pytest.approx(2.04e6, rel=0.01)
    assert macs.gmac == pytest.approx(8.36, rel=0.01)


@pytest.mark.parametrize("student", ["espcn", "rfdn"])
def test_students_cost_under_a_tenth_of_srresnet(student):
    teacher = count_macs(build_model("srresnet"), (32, 32)).total
    assert count_macs(build_model(student), (32, 32)).total < teacher / 10


def test_mac_count_scales_with_the_input_area():
    model = build_model("espcn")
    small, large = count_macs(model, (16, 16)), count_macs(model, (32, 32))
    assert large.total == 4 * small.total
    assert large.per_input_pixel == small.per_input_pixel


def test_rfdn_handles_frames_too_small_for_its_attention_pool():
    model = build_model("rfdn", features=8, blocks=1).eval()
    with torch.no_grad():
        assert tuple(model(torch.rand(1, 1, 12, 12)).shape) == (1, 1, 48, 48)


@pytest.mark.parametrize("arch", ["espcn", "rfdn"])
def test_an_anchored_student_starts_near_nearest_neighbour_upsampling(arch):
    from echosr_edge.models.registry import build_model

    torch.manual_seed(0)
    x = torch.rand(2, 1, 12, 12)
    nearest = torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest")
    with torch.no_grad():
        anchored = build_model(arch, features=8, anchor=True).eval()(x)
        plain = build_model(arch, features=8).eval()(x)
    assert anchored.shape == nearest.shape
    assert (anchored - nearest).abs().mean() < 0.1 * (plain - nearest).abs().mean()
