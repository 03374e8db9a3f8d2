"""Kit fixtures: the real echosr-edge wheel (built once) and a cpu kit without dependency wheels."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory) -> Path:
    """The echosr-edge wheel built from this source tree with `pip wheel --no-deps` (seconds)."""
    from echosr_edge.package.wheels import build_project_wheel

    return build_project_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def cpu_kit(tmp_path_factory, bundle_dir, project_wheel) -> Path:
    """A cpu kit of the test bundle, built without downloading dependency wheels (no network)."""
    from echosr_edge.package.kit import KitOptions, build_kit

    out = tmp_path_factory.mktemp("kits") / "cpu-kit"
    build_kit(KitOptions(bundle=bundle_dir, target="cpu", out=out, wheel=project_wheel, deps="none"))
    return out


@pytest.fixture()
def kit_copy(tmp_path, cpu_kit) -> Path:
    """A private copy of the cpu kit that a test may alter."""
    return Path(shutil.copytree(cpu_kit, tmp_path / "kit"))


def flip_a_byte(path: Path) -> None:
    """Alter a file the way a bad copy would: one byte in the middle."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
