"""The runtime and device profiles never import torch, torchvision or the training code."""

import subprocess
import sys

# Everything a device may import: every package of echosr_edge but the training side, and every
# module under it, found by walking the package (a new module is checked without editing this list).
TRAINING_SIDE = ("train", "models", "export", "calibration")

CHECK = f"""
import importlib, pkgutil, sys
import echosr_edge
names = []
for top in pkgutil.iter_modules(echosr_edge.__path__, "echosr_edge."):
    if top.name.split(".")[1] in {TRAINING_SIDE!r} or top.name.endswith("__main__"):
        continue
    names.append(top.name)
    if top.ispkg:
        package = importlib.import_module(top.name)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, top.name + ".")]
for name in names:
    importlib.import_module(name)
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'nncf')
               or m.startswith(('echosr_edge.train', 'echosr_edge.models', 'echosr_edge.export')))
print(len(names), ','.join(heavy))
"""


def test_runtime_imports_no_torch_in_a_fresh_interpreter():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    imported, heavy = out.stdout.split()[0], out.stdout.strip().partition(" ")[2]
    assert heavy == ""
    assert int(imported) > 50  # the walk found the runtime, devices, bundle, data, cli … modules


def test_runtime_works_when_torch_and_scikit_image_cannot_be_imported(bundle_dir, tmp_path):
    code = f"""
import sys
sys.modules['torch'] = None
sys.modules['torchvision'] = None
sys.modules['skimage'] = None
from echosr_edge.devices.profiles import get_profile
from echosr_edge.runtime.bench import bench_bundle
report = bench_bundle({str(bundle_dir)!r}, get_profile('cpu'), runs=2, warmup=1)
print(len(report.rows), report.rows[1].sr_ssim_vs_fp32 is not None)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 True"  # both rows, and SSIM without scikit-image
