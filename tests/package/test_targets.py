"""Packaging facts per target: wheel platform tags, the Python version, the known targets."""

import pytest

from echosr_edge.errors import EchoSRError
from echosr_edge.package.targets import check_python_version, expand_platforms, get_target, platform_tags


def test_default_platforms_run_from_glibc_2_35_down_to_manylinux2014():
    tags = platform_tags("aarch64")
    assert tags[0] == "manylinux_2_35_aarch64" and "manylinux_2_17_aarch64" in tags
    assert tags[-1] == "manylinux2014_aarch64" and "manylinux_2_16_aarch64" not in tags
    assert all(t.endswith("_aarch64") for t in tags)


def test_a_given_glibc_platform_widens_to_the_older_ones_only():
    tags = expand_platforms(["manylinux_2_31_x86_64"], "x86_64")
    assert "manylinux_2_31_x86_64" in tags and "manylinux_2_28_x86_64" in tags and "manylinux1_x86_64" in tags
    assert "manylinux_2_32_x86_64" not in tags


def test_a_platform_for_another_cpu_than_the_targets_is_refused():
    with pytest.raises(EchoSRError, match="is for x86_64, but this target's CPU is aarch64"):
        expand_platforms(["manylinux_2_35_x86_64"], get_target("jetson").arch)


def test_a_platform_that_is_not_manylinux_is_refused():
    with pytest.raises(EchoSRError, match="not a manylinux tag"):
        expand_platforms(["win_amd64"], "x86_64")


@pytest.mark.parametrize("bad", ["3", "3.10.2", "py310", "2.7"])
def test_python_version_must_be_major_minor(bad):
    with pytest.raises(EchoSRError, match="MAJOR.MINOR"):
        check_python_version(bad)


def test_python_older_than_the_package_supports_is_refused():
    with pytest.raises(EchoSRError, match="needs Python 3.10 or newer"):
        check_python_version("3.8")


def test_unknown_target_suggests_the_closest():
    with pytest.raises(EchoSRError, match="Did you mean 'jetson'"):
        get_target("jetsn")


def test_each_target_ships_its_own_format_first():
    assert get_target("cpu").formats == ("onnx",)
    assert get_target("intel-cpu").formats == ("openvino", "onnx") and get_target("intel-cpu").extras == ("openvino",)
    jetson = get_target("jetson")
    assert jetson.formats == ("onnx",) and jetson.system_modules == ("tensorrt",) and jetson.builds_engines
    assert jetson.system_site_packages and jetson.arch == "aarch64" and jetson.python == "3.10"


def test_arm64_board_target_ships_onnx_first_with_aarch64_wheels_for_pi_os():
    arm = get_target("arm64-cpu")
    assert arm.arch == "aarch64" and arm.formats == ("onnx", "openvino") and arm.extras == ("openvino",)
    assert arm.python == "3.11"  # Raspberry Pi OS 12 (Bookworm)
    assert arm.shipped_for("onnx").device == "cpu"
    assert all(tag.endswith("_aarch64") for tag in expand_platforms((), arm.arch))
