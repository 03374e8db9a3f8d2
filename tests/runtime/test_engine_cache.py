"""The engine cache key: every field that decides whether an engine runs here changes it."""

import dataclasses
import json

import pytest

from echosr_edge.errors import EchoSRError
from echosr_edge.runtime.engine_cache import (
    CACHE_ENV,
    EngineCache,
    EngineKey,
    GpuIdentity,
    default_cache_dir,
    gpu_identity,
    make_key,
)

ORIN = GpuIdentity("Orin (nvgpu)", "8.7")
KEY = make_key("a" * 64, "fp16", "10.3.0", ORIN, None, 1 << 30)
# The cache file holds these bytes only to test the store; nothing here loads or runs an engine.
NOT_AN_ENGINE = b"cache mechanics only, not a TensorRT engine"

OTHER_VALUES = {
    "onnx_sha256": "b" * 64,
    "precision": "int8",
    "tensorrt": "8.6.2",
    "gpu": "NVIDIA GeForce RTX 4090",
    "compute_capability": "8.9",
    "dla_core": 0,
    "workspace_bytes": 2 << 30,
}


def test_every_field_of_the_key_changes_its_digest():
    assert {f.name for f in dataclasses.fields(EngineKey)} == set(OTHER_VALUES)  # no field left untested
    for name, value in OTHER_VALUES.items():
        assert dataclasses.replace(KEY, **{name: value}).digest != KEY.digest, name


def test_the_digest_is_stable_and_hex():
    again = make_key("a" * 64, "fp16", "10.3.0", GpuIdentity("Orin (nvgpu)", "8.7"), None, 1 << 30)
    assert again.digest == KEY.digest and len(KEY.digest) == 32 and int(KEY.digest, 16) >= 0


def test_a_stored_engine_is_found_by_its_key_with_a_sidecar_of_the_key_fields(tmp_path):
    cache = EngineCache(tmp_path)
    path = cache.store(KEY, NOT_AN_ENGINE, {"model": "sr", "build_seconds": 1.5})
    assert cache.lookup(KEY) == path and path.read_bytes() == NOT_AN_ENGINE
    sidecar = json.loads(cache.sidecar_path(KEY).read_text())
    assert sidecar["key"] == dataclasses.asdict(KEY) and sidecar["model"] == "sr" and sidecar["digest"] == KEY.digest


def test_an_engine_of_another_tensorrt_or_gpu_is_not_found_and_the_cache_says_why(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store(dataclasses.replace(KEY, tensorrt="8.6.2", gpu="Xavier", compute_capability="7.2"), NOT_AN_ENGINE, {})
    assert cache.lookup(KEY) is None
    (why,) = cache.stale_for(KEY)
    assert "tensorrt: 8.6.2 → 10.3.0" in why and "compute_capability: 7.2 → 8.7" in why


def test_an_engine_without_its_sidecar_is_not_trusted(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store(KEY, NOT_AN_ENGINE, {})
    cache.sidecar_path(KEY).unlink()
    assert cache.lookup(KEY) is None


def test_removing_an_entry_drops_engine_and_sidecar(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store(KEY, NOT_AN_ENGINE, {})
    cache.remove(KEY)
    assert list(tmp_path.iterdir()) == []


def test_the_last_build_time_is_remembered(tmp_path):
    cache = EngineCache(tmp_path)
    assert cache.last_build() is None
    cache.record_build(612.34, ["sr", "view"], "/opt/echosr-edge/bundle")
    assert cache.last_build()["seconds"] == 612.3 and cache.last_build()["models"] == ["sr", "view"]
    assert cache.entries() == []  # the build record is not an engine's sidecar


def test_the_cache_folder_is_overridable(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "engines"))
    assert default_cache_dir() == tmp_path / "engines"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "echosr-edge" / "engines"


def test_without_an_nvidia_driver_the_gpu_cannot_be_named(monkeypatch):
    import ctypes

    def no_library(name, *args, **kwargs):
        raise OSError(name)

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    with pytest.raises(EchoSRError, match="no NVIDIA GPU driver"):
        gpu_identity()
