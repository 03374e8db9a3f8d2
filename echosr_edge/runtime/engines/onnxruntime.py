"""ONNX Runtime adapter (CPU execution provider by default; CUDA when the device profile asks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.errors import BundleError, EchoSRError, import_optional


class OnnxRuntimeEngine:
    """An ONNX model in an ``onnxruntime.InferenceSession``."""

    def __init__(self, path: Path, threads: int | None = None, providers: list[str] | tuple[str, ...] | None = None):
        ort = import_optional("onnxruntime", "cpu")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=list(providers or ["CPUExecutionProvider"])
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise BundleError(f"{Path(path).name}: ONNX Runtime cannot load it ({exc})") from exc
        wanted = (providers or ["CPUExecutionProvider"])[0]
        if wanted not in self.session.get_providers():
            # ONNX Runtime falls back to the CPU silently; a GPU profile must not.
            raise EchoSRError(f"{Path(path).name}: ONNX Runtime could not use {wanted} on this machine")
        self.inputs = [_spec(i) for i in self.session.get_inputs()]
        self.outputs = [_spec(o) for o in self.session.get_outputs()]
        self._output_names = [o.name for o in self.outputs]

    def __call__(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = self.session.run(self._output_names, feeds)
        return dict(zip(self._output_names, values))


def _spec(node) -> TensorSpec:
    dtype = {"tensor(float)": "float32", "tensor(float16)": "float16"}.get(node.type, node.type)
    return TensorSpec(name=node.name, shape=tuple(node.shape), dtype=dtype)
