"""The runtime and device profiles never import torch, torchvision or the training code."""

import subprocess
import sys

CHECK = """
import sys
import echosr_edge.runtime, echosr_edge.runtime.pipeline, echosr_edge.runtime.bench
import echosr_edge.runtime.run, echosr_edge.runtime.sources, echosr_edge.runtime.engines.onnxruntime
import echosr_edge.runtime.engines.openvino, echosr_edge.runtime.engines.tensorrt, echosr_edge.runtime.live
import echosr_edge.runtime.checks, echosr_edge.runtime.sinks, echosr_edge.runtime.display, echosr_edge.runtime.sector
import echosr_edge.devices.profiles, echosr_edge.devices.detect, echosr_edge.bundle.integrity, echosr_edge.cli
import echosr_edge.cli.run, echosr_edge.cli.devices, echosr_edge.data.dicom
import echosr_edge.runtime.region, echosr_edge.runtime.inspect, echosr_edge.cli.inspect, echosr_edge.data.synth_screen
import echosr_edge.runtime.engine_cache, echosr_edge.runtime.engine_build, echosr_edge.cli.engines, echosr_edge.cli._engines
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf')
               or m.startswith(('echosr_edge.train', 'echosr_edge.models', 'echosr_edge.export')))
print(','.join(heavy))
"""


def test_runtime_imports_no_torch_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_runtime_works_when_torch_cannot_be_imported(bundle_dir, tmp_path):
    code = f"""
import sys
sys.modules['torch'] = None
sys.modules['torchvision'] = None
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.bench import bench_bundle
report = bench_bundle({str(bundle_dir)!r}, get_profile('cpu'), runs=2, warmup=1)
print(len(report.rows))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2"
