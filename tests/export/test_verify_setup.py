"""Export verifies each format with the engine options of the device profile that runs it."""

import pytest

from echosr_edge.devices.profiles import PROFILES
from echosr_edge.export.verify import runtime_setup


@pytest.mark.parametrize("format, device", [("onnx", "cpu"), ("openvino", "intel-cpu"), ("tensorrt", "jetson")])
def test_each_format_is_verified_as_the_device_profile_that_prefers_it_runs_it(format, device):
    assert runtime_setup(format) == {"device_profile": device, "options": PROFILES[device].options_for(format)}


def test_every_openvino_precision_is_verified_at_f32_inference_as_intel_cpu_runs_it():
    assert runtime_setup("openvino")["options"]["inference_precision"] == "f32"
