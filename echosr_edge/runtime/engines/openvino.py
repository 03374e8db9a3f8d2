"""OpenVINO adapter: an IR model (.xml with its .bin beside it) compiled for a CPU.

Every engine of a process shares one ``ov.Core`` (one plugin instance, one CPU thread pool
configuration), and compiled models are cached on disk (``CACHE_DIR``) so a second start loads
the compiled blob instead of compiling again: a per-user folder, ``$ECHOSR_CACHE_DIR`` or
``$XDG_CACHE_HOME/echosr-edge`` (default ``~/.cache/echosr-edge``), subfolder ``openvino``.
OpenVINO keys each blob on the model, the compile options and its own version, so a stale entry
is never used; an unwritable folder only costs the cache.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.errors import BundleError, import_optional

_PRECISIONS = {"f32": "f32", "fp32": "f32", "bf16": "bf16", "f16": "f16", "fp16": "f16"}


class OpenVINOEngine:
    """An OpenVINO IR model compiled by the process's shared ``ov.Core`` (``shared_core``).

    ``batch`` fixes a dynamic batch axis before compiling (the runtime feeds one frame at a time,
    and the CPU plugin runs a static shape without per-call shape inference); None keeps the IR's
    dynamic batch. ``cache`` keeps the compiled model in the per-user cache folder.
    """

    def __init__(
        self,
        path: Path,
        threads: int | None = None,
        device: str = "CPU",
        performance_hint: str | None = "LATENCY",
        inference_precision: str | None = None,
        batch: int | None = 1,
        cache: bool = True,
    ):
        ov = import_optional("openvino", "openvino")
        path = Path(path)
        if path.suffix != ".xml":
            raise BundleError(f"{path.name}: an OpenVINO artifact must be the IR's .xml file")
        if not path.with_suffix(".bin").is_file():
            raise BundleError(f"{path.name}: its weights {path.with_suffix('.bin').name} are missing beside it")
        config: dict[str, object] = {}
        if performance_hint:
            config["PERFORMANCE_HINT"] = performance_hint.upper()
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        if inference_precision:
            if inference_precision not in _PRECISIONS:
                raise BundleError(f"unknown OpenVINO inference precision {inference_precision!r}")
            config["INFERENCE_PRECISION_HINT"] = _PRECISIONS[inference_precision]
        try:
            core = shared_core()
            if cache and (folder := cache_dir()) is not None:
                config["CACHE_DIR"] = str(folder)
            model = core.read_model(str(path))
            if batch is not None:
                _fix_batch(ov, model, batch)
            self.compiled = core.compile_model(model, device, config)
        except Exception as exc:  # OpenVINO raises RuntimeError for malformed IR and unknown devices
            raise BundleError(f"{path.name}: OpenVINO cannot compile it for {device} ({exc})") from exc
        self.request = self.compiled.create_infer_request()
        self.inputs = [_spec(p) for p in self.compiled.inputs]
        self.outputs = [_spec(p) for p in self.compiled.outputs]
        self._ports = list(zip((o.name for o in self.outputs), self.compiled.outputs))

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self.request.infer(feeds)
        # infer() copies outputs unless asked to share them, so the arrays outlive the next call.
        return {name: np.asarray(results[port]) for name, port in self._ports}


@functools.lru_cache(maxsize=1)
def shared_core():
    """The process's one ``ov.Core`` (creating a Core loads the plugins: once is enough)."""
    ov = import_optional("openvino", "openvino")
    return ov.Core()


def cache_dir() -> Path | None:
    """The compiled-model cache folder (``runtime.user_cache``); None when it cannot be written."""
    from echosr_edge.runtime.user_cache import cache_folder

    return cache_folder("openvino")


def _fix_batch(ov, model, batch: int) -> None:
    """Reshape every input whose first (batch) axis is dynamic to ``batch``, other axes as they are."""
    shapes = {}
    for port in model.inputs:
        shape = port.get_partial_shape()
        if shape.rank.is_static and shape.rank.get_length() > 0 and shape[0].is_dynamic:
            dims = [ov.Dimension(batch)] + [shape[i] for i in range(1, shape.rank.get_length())]
            shapes[port] = ov.PartialShape(dims)
    if shapes:
        model.reshape(shapes)


def _spec(port) -> TensorSpec:
    shape = tuple(None if d.is_dynamic else d.get_length() for d in port.get_partial_shape())
    dtype = {"f32": "float32", "f16": "float16"}.get(port.get_element_type().get_type_name(), str(port.get_element_type()))
    return TensorSpec(name=port.get_any_name(), shape=shape, dtype=dtype)
