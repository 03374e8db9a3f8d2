"""Wheels for a kit: echosr-edge's own, built from the source tree, and its dependencies for the target.

Both go through pip in a subprocess (``pip wheel``, ``pip download``); pip's cache keeps repeated
downloads cheap. Nothing here imports torch.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import echosr_edge
from echosr_edge.errors import EchoSRError

log = logging.getLogger(__name__)

PROJECT_NAME = "echosr-edge"
# The files setuptools needs to build the wheel; the rest of the tree (tests, caches, build/) stays out.
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")


@dataclass(frozen=True)
class WheelName:
    """The parts of a wheel's file name (PEP 427): distribution, version, and its compatibility tags."""

    file: str
    distribution: str
    version: str
    python_tags: tuple[str, ...]
    abi_tags: tuple[str, ...]
    platform_tags: tuple[str, ...]

    @classmethod
    def parse(cls, file: str) -> "WheelName":
        parts = file[: -len(".whl")].split("-") if file.endswith(".whl") else []
        if len(parts) not in (5, 6):
            raise EchoSRError(f"{file} is not a wheel file name (name-version-python-abi-platform.whl)")
        dist, version, py, abi, plat = parts[0], parts[1], parts[-3], parts[-2], parts[-1]
        return cls(file, dist, version, tuple(py.split(".")), tuple(abi.split(".")), tuple(plat.split(".")))

    @property
    def project(self) -> str:
        """The normalised project name (PEP 503): ``opencv_python_headless`` → ``opencv-python-headless``."""
        return re.sub(r"[-_.]+", "-", self.distribution).lower()

    def installs_on(self, python: tuple[int, int], platforms: tuple[str, ...]) -> bool:
        """Whether CPython ``python`` on a Linux accepting ``platforms`` can install this wheel."""
        cp = f"cp{python[0]}{python[1]}"
        platform_ok = "any" in self.platform_tags or any(t in platforms for t in self.platform_tags)
        if "none" in self.abi_tags:  # pure Python, or a binary with no Python ABI
            python_ok = any(t in (cp, f"py{python[0]}", f"py{python[0]}{python[1]}") for t in self.python_tags)
        elif "abi3" in self.abi_tags:  # the stable ABI: any CPython at or after the tag's version
            python_ok = any(_cp_version(t) is not None and _cp_version(t) <= python for t in self.python_tags)
        else:
            python_ok = cp in self.python_tags and cp in self.abi_tags
        return platform_ok and python_ok


def _cp_version(tag: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"cp(\d)(\d+)", tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


def wheel_requirements(wheel: Path, extras: tuple[str, ...] = ()) -> set[str]:
    """The projects a wheel requires (its METADATA's Requires-Dist), core plus ``extras``, normalised.

    Only the marker ``extra == "..."`` is read; other markers (python_version, platform) keep the
    requirement, which errs towards asking for a wheel rather than missing one.
    """
    with zipfile.ZipFile(wheel) as archive:
        meta = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta is None:
            raise EchoSRError(f"{wheel}: no METADATA in the wheel")
        text = archive.read(meta).decode("utf-8")
    own = None
    needed = set()
    for line in text.splitlines():
        if line.startswith("Name:"):
            own = re.sub(r"[-_.]+", "-", line.split(":", 1)[1].strip()).lower()
        if not line.startswith("Requires-Dist:"):
            continue
        spec, _, marker = line.split(":", 1)[1].partition(";")
        name = re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9._-]+)", spec).group(1)).lower()
        extra = re.search(r"extra\s*==\s*[\"']([^\"']+)[\"']", marker)
        if (extra is None or extra.group(1) in extras) and name != own:
            needed.add(name)
    return needed


def project_root() -> Path | None:
    """The source tree echosr_edge was imported from, or None when it is an installed copy."""
    root = Path(echosr_edge.__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and re.search(r'^name\s*=\s*"echosr-edge"', pyproject.read_text(), re.M):
        return root
    return None


def _pip(args: list[str], what: str) -> str:
    """Run ``python -m pip ARGS``; a failure raises with the tail of pip's output."""
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    log.info("running %s", " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-12:])
        raise EchoSRError(f"{what} failed (pip exit {done.returncode}):\n{tail}")
    return done.stdout


def build_project_wheel(out_dir: Path, root: Path | None = None) -> Path:
    """Build the echosr-edge wheel from a clean copy of the source tree (``pip wheel --no-deps``)."""
    root = Path(root) if root else project_root()
    if root is None:
        raise EchoSRError(
            "echosr-edge is installed, not run from its source tree: pass --wheel with an echosr-edge wheel"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="echosr-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in PROJECT_FILES:
            if (root / name).is_file():
                shutil.copy2(root / name, src / name)
        shutil.copytree(
            root / "echosr_edge", src / "echosr_edge", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        built = Path(tmp) / "wheel"
        _pip(["wheel", "--no-deps", "--wheel-dir", str(built), str(src)], "building the echosr-edge wheel")
        wheels = list(built.glob("echosr_edge-*.whl"))
        if len(wheels) != 1:
            raise EchoSRError(f"building the echosr-edge wheel gave {[w.name for w in wheels]}, expected one wheel")
        return Path(shutil.copy2(wheels[0], out_dir / wheels[0].name))


def download_dependencies(
    project_wheel: Path,
    extras: tuple[str, ...],
    python: tuple[int, int],
    platforms: tuple[str, ...],
    out_dir: Path,
    wheels_from: Path | None = None,
) -> list[Path]:
    """Download the wheels ``project_wheel[extras]`` needs on the target, and pip's, into ``out_dir``.

    Binary wheels only, for CPython ``python`` on ``platforms``. With ``wheels_from``, pip looks
    only in that folder (no index): a mirror, or the wheels/ of an earlier kit.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(out_dir.iterdir())
    requirement = str(Path(project_wheel).resolve()) + (f"[{','.join(extras)}]" if extras else "")
    # pip itself travels too: install.sh bootstraps the venv's pip from it (no ensurepip needed).
    args = ["download", "--only-binary=:all:", "--dest", str(out_dir), "--implementation", "cp"]
    args += ["--python-version", f"{python[0]}.{python[1]}", "--abi", f"cp{python[0]}{python[1]}"]
    args += ["--abi", "abi3", "--abi", "none"]
    for tag in platforms:
        args += ["--platform", tag]
    if wheels_from is not None:
        if not Path(wheels_from).is_dir():
            raise EchoSRError(f"--wheels-from {wheels_from}: no such folder")
        args += ["--no-index", "--find-links", str(Path(wheels_from).resolve())]
    _pip([*args, requirement, "pip"], f"downloading the dependencies for {', '.join(platforms[:1])} Python {python[0]}.{python[1]}")
    # pip copies the project wheel itself into the folder too; the caller already placed it.
    return sorted(p for p in set(out_dir.iterdir()) - before if p.suffix == ".whl")
