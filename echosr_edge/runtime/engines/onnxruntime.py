"""ONNX Runtime adapter (CPU execution provider by default; CUDA when the device profile asks).

Session options are set for a process that holds several sessions and calls them one after the
other (SR, then each classifier), as the pipeline does:

- ``session.intra_op.allow_spinning = 0`` (and inter-op): by default each session's thread pool
  spin-waits after a call, so on a small CPU the next session's threads compete with spinning
  ones. Measured on 2 cores, HR 256, three sessions back to back: SR 232 → 199 ms, each
  classifier 52 → 21 ms (docs/runtime.md). A single session loses nothing measurable.
- graph optimisation ``ORT_ENABLE_ALL`` (layout and fusion passes for the CPU provider) and the
  sequential execution mode: the models are chains, so the parallel mode only adds a pool.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echosr_edge.bundle.manifest import TensorSpec
from echosr_edge.errors import BundleError, EchoSRError, import_optional

# Documented session config keys (onnxruntime_session_options_config_keys.h).
NO_SPINNING = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}


def session_options(ort, threads: int | None = None, spinning: bool = False):
    """The ``SessionOptions`` every session of the runtime uses (export verification too)."""
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not spinning:
        for key, value in NO_SPINNING.items():
            options.add_session_config_entry(key, value)
    options.log_severity_level = 3
    return options


class OnnxRuntimeEngine:
    """An ONNX model in an ``onnxruntime.InferenceSession``.

    ``spinning`` restores ONNX Runtime's default spin-waiting thread pool (for measuring its cost).
    """

    def __init__(
        self,
        path: Path,
        threads: int | None = None,
        providers: list[str] | tuple[str, ...] | None = None,
        spinning: bool = False,
    ):
        ort = import_optional("onnxruntime", "cpu")
        options = session_options(ort, threads, spinning)
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
