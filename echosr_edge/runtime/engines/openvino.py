"""OpenVINO adapter: an IR model (.xml with its .bin beside it) compiled for a CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.errors import BundleError, import_optional

_PRECISIONS = {"f32": "f32", "fp32": "f32", "bf16": "bf16", "f16": "f16", "fp16": "f16"}


class OpenVINOEngine:
    """An OpenVINO IR model compiled with ``ov.Core().compile_model``."""

    def __init__(
        self,
        path: Path,
        threads: int | None = None,
        device: str = "CPU",
        performance_hint: str | None = "LATENCY",
        inference_precision: str | None = None,
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
            core = ov.Core()
            self.compiled = core.compile_model(str(path), device, config)
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


def _spec(port) -> TensorSpec:
    shape = tuple(None if d.is_dynamic else d.get_length() for d in port.get_partial_shape())
    dtype = {"f32": "float32", "f16": "float16"}.get(port.get_element_type().get_type_name(), str(port.get_element_type()))
    return TensorSpec(name=port.get_any_name(), shape=shape, dtype=dtype)
