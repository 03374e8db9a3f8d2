"""Device profiles: the artifact format and precisions each kind of device prefers."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from echosr_edge.errors import EchoSRError


@dataclass(frozen=True)
class DeviceProfile:
    """A kind of device: the artifact format it loads and its precisions, best first."""

    name: str
    format: str
    precisions: tuple[str, ...]
    description: str
    threads: int | None = None


PROFILES: dict[str, DeviceProfile] = {
    "cpu": DeviceProfile("cpu", "onnx", ("int8", "fp32"), "any CPU through ONNX Runtime"),
}


def get_profile(name: str) -> DeviceProfile:
    """The profile called ``name``; an unknown name lists the known ones."""
    if name not in PROFILES:
        close = difflib.get_close_matches(name, PROFILES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise EchoSRError(f"unknown device {name!r}; known: {', '.join(PROFILES)}.{hint}")
    profile = PROFILES[name]
    return profile if profile.threads else DeviceProfile(**{**profile.__dict__, "threads": os.cpu_count()})
