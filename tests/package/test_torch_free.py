"""The kit builder runs where echosr-edge is installed for a device: it never imports torch."""

import subprocess
import sys

CHECK = """
import sys
import echosr_edge.package, echosr_edge.package.kit, echosr_edge.package.verify, echosr_edge.cli.package
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf', 'onnx', 'openvino')
               or m.startswith(('echosr_edge.train', 'echosr_edge.models', 'echosr_edge.export')))
print(','.join(heavy))
"""


def test_package_imports_no_torch_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
