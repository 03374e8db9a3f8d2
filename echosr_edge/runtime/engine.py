"""One engine interface; one adapter per backend, looked up by artifact format.

An adapter module is imported only when a bundle asks for its format, so a device installs
just the backend it uses.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from echosr_edge.bundle.integrity import verify_artifact
from echosr_edge.bundle.manifest import Artifact, TensorSpec
from echosr_edge.bundle.vocabulary import ADAPTERS  # format → "module:factory"; factory(path, threads=..., **options)
from echosr_edge.devices.profiles import DeviceProfile
from echosr_edge.errors import BundleError

# Profile options that steer on-device engine builds (runtime.engine_build), not an adapter.
BUILD_ONLY_OPTIONS = ("engine_cache", "workspace_gb")


@runtime_checkable
class Engine(Protocol):
    """A loaded model: named float inputs in, named outputs out."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def open_engine(path: Path, format: str, threads: int | None = None, **options) -> Engine:
    """Open the model file ``path`` with the adapter for ``format``; ``options`` go to the adapter."""
    if format not in ADAPTERS:
        raise BundleError(f"no runtime adapter for format {format!r} (known: {', '.join(ADAPTERS)})")
    module_name, factory_name = ADAPTERS[format].split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    return factory(Path(path), threads=threads, **options)


def open_artifact(bundle_dir: Path, artifact: Artifact, device: DeviceProfile) -> Engine:
    """Open a bundle artifact with the adapter options ``device`` gives its format.

    Its files are checked against the manifest's sha256 first, whichever way the manifest was
    opened (``bundle.integrity.open_bundle(defer_artifacts=True)`` leaves this check to here).
    """
    verify_artifact(bundle_dir, artifact)
    path = Path(bundle_dir) / artifact.file
    options = {k: v for k, v in device.options_for(artifact.format).items() if k not in BUILD_ONLY_OPTIONS}
    return open_engine(path, artifact.format, device.threads, **options)


def run_single(engine: Engine, x: np.ndarray) -> np.ndarray:
    """Feed one array to a one-input engine and return its first output."""
    outputs = engine({engine.inputs[0].name: x})
    return outputs[engine.outputs[0].name]
