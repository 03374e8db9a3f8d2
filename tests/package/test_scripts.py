"""The kit's shell scripts and service, run for real with sh (no network, nothing installed)."""

import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from echosr_edge.package.kit import KitOptions, build_kit
from tests.package.conftest import flip_a_byte

REPO = Path(__file__).resolve().parents[2]


def sh(script: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(script), *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("script", ["install.sh", "launch.sh"])
def test_scripts_parse_as_posix_sh(cpu_kit, script):
    done = subprocess.run(["sh", "-n", str(cpu_kit / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_install_refuses_an_altered_kit_naming_the_file_before_installing_anything(kit_copy, tmp_path):
    flip_a_byte(kit_copy / "bundle" / "models" / "sr.fp32.onnx")
    done = sh(kit_copy / "install.sh", "--prefix", str(tmp_path / "opt"), "--python", sys.executable)
    assert done.returncode != 0
    assert "bundle/models/sr.fp32.onnx: FAILED" in done.stdout
    assert "the kit is damaged or altered" in done.stderr
    assert not (tmp_path / "opt").exists()


def test_install_refuses_a_python_other_than_the_kits(tmp_path, bundle_dir, project_wheel):
    other = "3.10" if sys.version_info[:2] != (3, 10) else "3.11"
    kit = tmp_path / "kit"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=kit, python=other, wheel=project_wheel, deps="none"))
    done = sh(kit / "install.sh", "--prefix", str(tmp_path / "opt"), "--python", sys.executable)
    have = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert done.returncode != 0
    assert f"this kit's wheels are for Python {other}, but {sys.executable} is {have}" in done.stderr
    assert not (tmp_path / "opt").exists()


def test_install_refuses_a_kit_without_its_dependency_wheels(tmp_path, bundle_dir, project_wheel):
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    kit = tmp_path / "kit"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=kit, python=here, wheel=project_wheel, deps="none"))
    done = sh(kit / "install.sh", "--prefix", str(tmp_path / "opt"), "--python", sys.executable)
    assert done.returncode != 0 and "built without its dependency wheels" in done.stderr
    assert not (tmp_path / "opt").exists()


def test_install_service_option_needs_root(kit_copy, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: the root check cannot fail here")
    done = sh(kit_copy / "install.sh", "--service", "--prefix", str(tmp_path / "opt"))
    assert done.returncode != 0 and "--service needs root" in done.stderr


def fake_prefix(kit: Path, command: str) -> Path:
    """Use the kit folder as an install prefix whose venv/bin/echosr-edge is ``command``."""
    bin_dir = kit / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "echosr-edge").write_text(f"#!/bin/sh\n{command}\n")
    (bin_dir / "echosr-edge").chmod(0o755)
    return kit


def test_launch_runs_the_camera_with_the_settings_device_and_a_log(kit_copy, tmp_path):
    prefix = fake_prefix(kit_copy, 'for a in "$@"; do echo "$a"; done')  # prints the arguments it gets
    conf = tmp_path / "echosr-edge.conf"
    conf.write_text(f"ECHOSR_CAMERA=2\nECHOSR_LOG_DIR={tmp_path / 'logs'}\n")
    done = sh(prefix / "launch.sh", env={"ECHOSR_CONF": str(conf)})
    assert done.returncode == 0, done.stderr
    args = done.stdout.splitlines()
    assert args[:9] == ["run", "--bundle", f"{prefix}/bundle", "--device", "cpu", "--camera", "2", "--headless", "--log"]
    assert args[9].startswith(f"{tmp_path / 'logs'}/run-") and args[9].endswith(".jsonl") and len(args) == 10


def test_launch_runs_echosr_edge_on_a_source_and_the_log_gets_every_frame(kit_copy, tmp_path, camus_root):
    """The real CLI (this interpreter, this source tree) behind launch.sh, on a 4-frame NIfTI folder."""
    prefix = fake_prefix(kit_copy, f'PYTHONPATH="{REPO}" exec "{sys.executable}" -m echosr_edge "$@"')
    conf = tmp_path / "echosr-edge.conf"
    conf.write_text(f"ECHOSR_SOURCE={camus_root / 'patient0003'}\nECHOSR_LOG_DIR={tmp_path / 'logs'}\n")
    done = sh(prefix / "launch.sh", env={"ECHOSR_CONF": str(conf)})
    assert done.returncode == 0, done.stderr
    assert "4 frames" in done.stdout
    (log,) = (tmp_path / "logs").glob("run-*.jsonl")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["frame"] for r in records] == [0, 1, 2, 3] and all("view" in r["labels"] for r in records)


def test_service_starts_at_boot_and_restarts_for_ever(cpu_kit):
    unit = configparser.ConfigParser(interpolation=None)
    unit.optionxform = str
    unit.read_string((cpu_kit / "echosr-edge.service").read_text())
    assert unit["Service"]["ExecStart"] == "__PREFIX__/launch.sh"
    assert unit["Service"]["Restart"] == "always" and unit["Unit"]["StartLimitIntervalSec"] == "0"
    assert unit["Service"]["SupplementaryGroups"] == "video"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_accepts_the_unit_as_install_sh_writes_it(cpu_kit, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    text = (cpu_kit / "echosr-edge.service").read_text().replace("__PREFIX__", str(cpu_kit)).replace("__USER__", "root")
    unit = tmp_path / "echosr-edge.service"
    unit.write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    complaints = [line for line in done.stderr.splitlines() if "echosr-edge.service" in line]
    assert done.returncode == 0 and not complaints, done.stderr
