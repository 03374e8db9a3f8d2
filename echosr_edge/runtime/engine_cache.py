"""The on-device TensorRT engine cache: one engine per (ONNX, precision, TensorRT, GPU, DLA core, workspace).

A serialized TensorRT engine only deserializes on the TensorRT version and the GPU model that
built it, so the cache key names both, with everything else that changes the engine: the ONNX
file's sha256, the precision, the DLA core and the builder workspace. An engine built by another
TensorRT or on another GPU has another key: it is never found, let alone loaded; the device
builds its own. Each engine has a JSON sidecar with the key's fields, the build time and the
start-up check it passed before it was cached.

Torch-free: the GPU is named through the driver API (libcuda), TensorRT's version through its
Python module.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from echosr_edge.errors import EchoSRError

CACHE_ENV = "ECHOSR_ENGINE_CACHE"
LAST_BUILD = "last_build.json"
KEY_VERSION = 1  # bumped when the meaning of a field (or how engines are built from them) changes

_CU_ATTR_CC_MAJOR, _CU_ATTR_CC_MINOR = 75, 76  # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR/MINOR


@dataclass(frozen=True)
class GpuIdentity:
    """The GPU an engine is built for: its name and compute capability ("8.7" on an Orin)."""

    name: str
    compute_capability: str


@dataclass(frozen=True)
class EngineKey:
    """Everything that decides whether a serialized engine runs here and what it computes."""

    onnx_sha256: str
    precision: str
    tensorrt: str
    gpu: str
    compute_capability: str
    dla_core: int | None
    workspace_bytes: int

    @property
    def digest(self) -> str:
        """A stable hex digest of every field (the engine's file name in the cache)."""
        doc = {"key_version": KEY_VERSION, **asdict(self)}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]

    def differences(self, other: "EngineKey") -> list[str]:
        """The fields where ``other`` differs from this key, as 'field: other → this'."""
        mine, theirs = asdict(self), asdict(other)
        return [f"{k}: {theirs[k]} → {mine[k]}" for k in mine if mine[k] != theirs[k]]


def default_cache_dir() -> Path:
    """$ECHOSR_ENGINE_CACHE, else $XDG_CACHE_HOME/echosr-edge/engines, else ~/.cache/echosr-edge/engines."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "echosr-edge" / "engines"


def gpu_identity(ordinal: int = 0) -> GpuIdentity:
    """Name and compute capability of GPU ``ordinal`` from the NVIDIA driver (no torch, no CUDA toolkit)."""
    for lib_name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(lib_name)
        except OSError:
            continue
        device, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        name = ctypes.create_string_buffer(256)
        calls = (
            lambda: lib.cuInit(0),
            lambda: lib.cuDeviceGet(ctypes.byref(device), ordinal),
            lambda: lib.cuDeviceGetName(name, len(name), device),
            lambda: lib.cuDeviceGetAttribute(ctypes.byref(major), _CU_ATTR_CC_MAJOR, device),
            lambda: lib.cuDeviceGetAttribute(ctypes.byref(minor), _CU_ATTR_CC_MINOR, device),
        )
        for call in calls:
            if call() != 0:
                raise EchoSRError(f"the NVIDIA driver cannot describe GPU {ordinal} (a CUDA driver call failed)")
        return GpuIdentity(name.value.decode(errors="replace").strip(), f"{major.value}.{minor.value}")
    raise EchoSRError("no NVIDIA GPU driver (libcuda) on this machine: TensorRT engines need an NVIDIA GPU")


def make_key(
    onnx_sha256: str, precision: str, tensorrt: str, gpu: GpuIdentity, dla_core: int | None, workspace_bytes: int
) -> EngineKey:
    """The cache key of an engine built from the ONNX with ``onnx_sha256`` under these settings."""
    return EngineKey(onnx_sha256, precision, tensorrt, gpu.name, gpu.compute_capability, dla_core, int(workspace_bytes))


class EngineCache:
    """A folder of ``<digest>.engine`` files, each with a ``<digest>.json`` sidecar."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_cache_dir()

    def engine_path(self, key: EngineKey) -> Path:
        return self.root / f"{key.digest}.engine"

    def sidecar_path(self, key: EngineKey) -> Path:
        return self.root / f"{key.digest}.json"

    def lookup(self, key: EngineKey) -> Path | None:
        """The cached engine for ``key`` (with its sidecar), or None."""
        path = self.engine_path(key)
        return path if path.is_file() and self.sidecar_path(key).is_file() else None

    def sidecar(self, key: EngineKey) -> dict:
        return json.loads(self.sidecar_path(key).read_text(encoding="utf-8"))

    def store(self, key: EngineKey, engine: bytes, info: dict) -> Path:
        """Write the engine and its sidecar atomically (a crash leaves no half engine)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.engine_path(key)
        _write_atomic(path, engine)
        sidecar = {"key": asdict(key), "digest": key.digest, "key_version": KEY_VERSION, "bytes": len(engine),
                   "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info}
        _write_atomic(self.sidecar_path(key), (json.dumps(sidecar, indent=2) + "\n").encode())
        return path

    def remove(self, key: EngineKey) -> None:
        """Drop an entry (one TensorRT refused to deserialize)."""
        for path in (self.engine_path(key), self.sidecar_path(key)):
            path.unlink(missing_ok=True)

    def entries(self) -> list[dict]:
        """Every sidecar in the cache."""
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*.json")):
            if path.name == LAST_BUILD:
                continue
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def stale_for(self, key: EngineKey) -> list[str]:
        """Why engines cached for the same ONNX and precision do not fit ``key`` (another TensorRT, GPU, ...)."""
        reasons = []
        for entry in self.entries():
            fields = entry.get("key", {})
            if fields.get("onnx_sha256") == key.onnx_sha256 and fields.get("precision") == key.precision:
                try:
                    other = EngineKey(**fields)
                except TypeError:
                    continue
                if other != key:
                    reasons.append("; ".join(key.differences(other)))
        return reasons

    def record_build(self, seconds: float, models: list[str], bundle: str) -> None:
        """Remember how long the last build took (said before the next one starts)."""
        self.root.mkdir(parents=True, exist_ok=True)
        doc = {"seconds": round(seconds, 1), "models": models, "bundle": bundle, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        _write_atomic(self.root / LAST_BUILD, (json.dumps(doc, indent=2) + "\n").encode())

    def last_build(self) -> dict | None:
        """The record of the last build in this cache, or None."""
        try:
            return json.loads((self.root / LAST_BUILD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
