"""What a kit carries for each kind of companion device: artifact formats, wheels' platform, Python.

These are packaging facts, kept apart from the runtime's device profiles (``echosr_edge.devices``):
a profile says how to run on a device; a target says what to copy onto it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from echosr_edge.errors import ConfigError, EchoSRError, did_you_mean

# Ubuntu 22.04 (JetPack 6 and a current Intel mini-PC) ships glibc 2.35 and Python 3.10.
DEFAULT_GLIBC = (2, 35)
DEFAULT_PYTHON = "3.10"
OLDEST_MANYLINUX = 17  # manylinux2014 == manylinux_2_17


@dataclass(frozen=True)
class Shipped:
    """One artifact format a target carries, the precisions copied, and the device profile that runs it."""

    format: str
    precisions: tuple[str, ...]
    device: str


@dataclass(frozen=True)
class Target:
    """A kind of companion device as the kit builder sees it."""

    name: str
    description: str
    arch: str  # "x86_64" or "aarch64"
    shipped: tuple[Shipped, ...]  # preferred format first; later ones are fallbacks
    extras: tuple[str, ...] = ()  # echosr-edge extras installed from the kit's wheels
    system_modules: tuple[str, ...] = ()  # provided by the device's OS, checked at install, never shipped
    system_site_packages: bool = False  # the venv must see the OS's Python packages (JetPack's TensorRT)
    builds_engines: bool = False  # install.sh and the service build TensorRT engines on the device
    python: str = DEFAULT_PYTHON

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(s.format for s in self.shipped)

    def shipped_for(self, format: str) -> Shipped | None:
        return next((s for s in self.shipped if s.format == format), None)


TARGETS: dict[str, Target] = {
    "cpu": Target(
        name="cpu",
        description="any x86-64 Linux computer, ONNX Runtime on the CPU",
        arch="x86_64",
        shipped=(Shipped("onnx", ("int8", "fp32"), "cpu"),),
    ),
    "intel-cpu": Target(
        name="intel-cpu",
        description="an Intel CPU box (mini-PC, NUC), OpenVINO, with ONNX Runtime as the fallback",
        arch="x86_64",
        shipped=(
            Shipped("openvino", ("int8", "fp16", "fp32"), "intel-cpu"),
            Shipped("onnx", ("int8", "fp32"), "cpu"),
        ),
        extras=("openvino",),
    ),
    "arm64-cpu": Target(
        name="arm64-cpu",
        description="an ARM64 Linux board (Raspberry Pi 5, Orange Pi 5 / RK3588), ONNX Runtime on its CPU, OpenVINO as the fallback",
        arch="aarch64",
        # ONNX Runtime first on ARM (devices/choice.py); OpenVINO's aarch64 wheel runs the same IR.
        shipped=(
            Shipped("onnx", ("int8", "fp32"), "cpu"),
            Shipped("openvino", ("int8", "fp32"), "intel-cpu"),
        ),
        extras=("openvino",),
        python="3.11",  # Raspberry Pi OS 12 (Bookworm), glibc 2.36; Ubuntu 22.04 boards: --python 3.10
    ),
    "jetson": Target(
        name="jetson",
        description="an NVIDIA Jetson (JetPack 6, Ubuntu 22.04), TensorRT from JetPack",
        arch="aarch64",
        # A TensorRT engine only loads on the TensorRT version (JetPack) and GPU that built it, so a
        # workstation's engines are never shipped: the kit carries the ONNX files and the device
        # builds its own engines from them at install (and before the service starts, if missing).
        shipped=(Shipped("onnx", ("int8", "fp16", "fp32"), "jetson"),),
        system_modules=("tensorrt",),
        system_site_packages=True,
        builds_engines=True,
    ),
}


def get_target(name: str) -> Target:
    """The target called ``name``; an unknown name lists the known ones."""
    if name not in TARGETS:
        hint = did_you_mean(name, TARGETS)
        raise ConfigError(f"unknown packaging target {name!r}; known: {', '.join(TARGETS)}.{hint}")
    return TARGETS[name]


def check_python_version(version: str) -> tuple[int, int]:
    """``"3.10"`` → (3, 10); anything else (``"3"``, ``"3.10.2"``, ``"py3"``) is refused."""
    match = re.fullmatch(r"3\.(\d{1,2})", version.strip())
    if not match:
        raise EchoSRError(f"Python version {version!r} must be MAJOR.MINOR, e.g. 3.10")
    minor = int(match.group(1))
    if minor < 10:
        raise EchoSRError(f"echosr-edge needs Python 3.10 or newer; {version} cannot install it")
    return 3, minor


def platform_tags(arch: str, glibc: tuple[int, int] = DEFAULT_GLIBC) -> tuple[str, ...]:
    """Every manylinux tag a Linux with this glibc and CPU accepts, newest first.

    pip's ``--platform`` takes tags literally (it does not widen ``manylinux_2_35`` to the older
    ones), so the kit builder names each.
    """
    major, minor = glibc
    if major != 2 or minor < OLDEST_MANYLINUX:
        raise EchoSRError(f"glibc {major}.{minor} is older than manylinux2014 (2.17); no wheels target it")
    tags = [f"manylinux_2_{m}_{arch}" for m in range(minor, OLDEST_MANYLINUX - 1, -1)]
    tags += [f"manylinux2014_{arch}"]
    if arch in ("x86_64", "i686"):
        tags += [f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    return tuple(tags)


def expand_platforms(platforms: tuple[str, ...] | list[str], arch: str) -> tuple[str, ...]:
    """The tags for user-given ``--platform`` values (``manylinux_2_31_aarch64`` widens to the older ones).

    Without values, the target's own arch at the default glibc. A value for another CPU than the
    target's is refused: an aarch64 kit of x86-64 wheels would install nowhere.
    """
    if not platforms:
        return platform_tags(arch)
    tags: list[str] = []
    for value in platforms:
        match = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", value)
        legacy = re.fullmatch(r"manylinux(2014|2010|1)_(\w+)", value)
        tag_arch = match.group(3) if match else legacy.group(2) if legacy else None
        if tag_arch is None:
            raise EchoSRError(f"platform {value!r} is not a manylinux tag (e.g. manylinux_2_35_{arch})")
        if tag_arch != arch:
            raise EchoSRError(f"platform {value!r} is for {tag_arch}, but this target's CPU is {arch}")
        if match:
            widened = platform_tags(arch, (int(match.group(1)), int(match.group(2))))
        else:
            widened = platform_tags(arch, (2, OLDEST_MANYLINUX)) if legacy.group(1) == "2014" else (value,)
        tags += [t for t in widened if t not in tags]
    return tuple(tags)
