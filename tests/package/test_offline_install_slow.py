"""End to end, with real downloaded wheels: a cpu kit installs with no network and runs.

Downloads ~100 MB of wheels (pip's cache makes reruns quick) and installs them into a fresh
virtual environment, so it only runs with ECHOSR_SLOW=1.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from echosr_edge.package.kit import KitOptions, build_kit, write_sums
from echosr_edge.package.verify import verify_kit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("ECHOSR_SLOW") != "1", reason="downloads and installs real wheels: set ECHOSR_SLOW=1"),
]
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


def no_network_prefix() -> list[str]:
    """`unshare -rn` (a private network namespace with no interfaces) where the kernel allows it."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn"]
    return []


@pytest.fixture(scope="module")
def downloaded_kit(tmp_path_factory, bundle_dir, project_wheel):
    out = tmp_path_factory.mktemp("slow") / "kit"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=out, python=HERE, wheel=project_wheel))
    return out


def test_downloaded_cpu_kit_verifies_and_holds_every_runtime_dependency(downloaded_kit):
    check = verify_kit(downloaded_kit)
    assert check.ok, check.problems
    projects = {p.name.split("-")[0].lower() for p in (downloaded_kit / "wheels").glob("*.whl")}
    assert {"numpy", "opencv_python_headless", "onnxruntime", "nibabel", "click", "echosr_edge"} <= projects
    assert "torch" not in projects


def test_kit_installs_without_network_and_runs_the_bundle_without_torch(downloaded_kit, tmp_path, camus_root):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    prefix = tmp_path / "opt"
    offline = no_network_prefix()
    done = subprocess.run(
        [*offline, "sh", str(downloaded_kit / "install.sh"), "--prefix", str(prefix), "--python", sys.executable],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = tmp_path / "run.jsonl"
    run = subprocess.run(
        [*offline, str(prefix / "venv" / "bin" / "echosr-edge"), "run", "--bundle", str(prefix / "bundle"),
         "--source", str(camus_root / "patient0003"), "--headless", "--log", str(log)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["frame"] for line in log.read_text().splitlines()] == [0, 1, 2, 3]
    no_torch = subprocess.run([str(prefix / "venv" / "bin" / "python"), "-c", "import torch"], capture_output=True, env=env)
    assert no_torch.returncode != 0


def test_a_second_kit_builds_from_the_first_kits_wheels_with_no_index(downloaded_kit, tmp_path, bundle_dir, project_wheel):
    out = tmp_path / "kit2"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=out, python=HERE, wheel=project_wheel, deps="folder", wheels_from=downloaded_kit / "wheels"))
    assert sorted(p.name for p in (out / "wheels").iterdir()) == sorted(p.name for p in (downloaded_kit / "wheels").iterdir())
    assert verify_kit(out).ok


def test_a_jetson_kit_installed_without_tensorrt_stops_at_the_engine_build_in_one_line(downloaded_kit, tmp_path, bundle_dir, project_wheel):
    """The jetson kit, re-targeted to this CPU and Python (its aarch64 wheels cannot install here)."""
    kit = tmp_path / "jetson-kit"
    build_kit(KitOptions(bundle=bundle_dir, target="jetson", out=kit, wheel=project_wheel, deps="none"))
    for wheel in (downloaded_kit / "wheels").glob("*.whl"):
        if not (kit / "wheels" / wheel.name).exists():
            shutil.copy2(wheel, kit / "wheels" / wheel.name)
    script = kit / "install.sh"
    text = script.read_text()
    for name, value in (("WANT_ARCH", os.uname().machine), ("WANT_PYTHON", HERE), ("DEPS_INCLUDED", "yes")):
        text = "\n".join(f'{name}="{value}"' if line.startswith(f"{name}=") else line for line in text.splitlines()) + "\n"
    script.write_text(text)
    write_sums(kit)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    done = subprocess.run(
        [*no_network_prefix(), "sh", str(script), "--prefix", str(tmp_path / "opt"), "--python", sys.executable],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "building the TensorRT engines for this device" in done.stdout.splitlines()[-1]
    assert done.stderr.strip().splitlines()[-1].startswith("install.sh: stopped at the engine build: the Python module tensorrt")
    assert "Traceback" not in done.stdout + done.stderr
    assert (tmp_path / "opt" / "venv" / "bin" / "echosr-edge").exists()  # everything before the build was installed
