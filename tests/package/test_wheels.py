"""Wheel names and requirements: what installs on which CPU and Python, and what echosr-edge needs."""

import zipfile

import pytest

from echosr_edge.errors import EchoSRError
from echosr_edge.package.targets import platform_tags
from echosr_edge.package.wheels import WheelName, wheel_requirements

X86 = platform_tags("x86_64")
ARM = platform_tags("aarch64")


@pytest.mark.parametrize(
    "file, python, platforms, ok",
    [
        ("numpy-2.2.6-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", (3, 10), X86, True),
        ("numpy-2.2.6-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", (3, 11), X86, False),
        ("numpy-2.2.6-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", (3, 10), X86, False),
        ("onnxruntime-1.23.2-cp310-cp310-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl", (3, 10), ARM, True),
        ("opencv_python_headless-5.0.0.93-cp37-abi3-manylinux_2_28_x86_64.whl", (3, 12), X86, True),
        ("protobuf-7.36.2-cp310-abi3-manylinux2014_aarch64.whl", (3, 10), ARM, True),
        ("click-8.5.1-py3-none-any.whl", (3, 10), ARM, True),
        ("coloredlogs-15.0.1-py2.py3-none-any.whl", (3, 11), X86, True),
        ("numpy-2.2.6-cp310-cp310-manylinux_2_38_x86_64.whl", (3, 10), X86, False),  # needs a newer glibc
        ("numpy-2.2.6-cp310-cp310-win_amd64.whl", (3, 10), X86, False),
    ],
)
def test_a_wheel_installs_only_on_its_python_and_platform(file, python, platforms, ok):
    assert WheelName.parse(file).installs_on(python, platforms) is ok


def test_wheel_names_normalise_to_the_project_name():
    name = WheelName.parse("opencv_python_headless-5.0.0.93-cp37-abi3-manylinux_2_28_x86_64.whl")
    assert name.project == "opencv-python-headless" and name.version == "5.0.0.93"


def test_a_file_that_is_not_a_wheel_name_is_refused():
    with pytest.raises(EchoSRError, match="not a wheel file name"):
        WheelName.parse("numpy.tar.gz")


def test_the_built_wheel_requires_the_runtime_dependencies_and_no_torch(project_wheel):
    core = wheel_requirements(project_wheel)
    assert core == {"numpy", "opencv-python-headless", "onnxruntime", "nibabel", "click", "cryptography"}
    assert wheel_requirements(project_wheel, ("openvino",)) == core | {"openvino"}


def test_the_built_wheel_holds_the_package_and_no_tests_or_caches(project_wheel):
    names = zipfile.ZipFile(project_wheel).namelist()
    assert "echosr_edge/runtime/pipeline.py" in names and "echosr_edge/package/kit.py" in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n or n.endswith(".pyc")]
