"""ONNX FP32 → FP16 weights and compute, float32 at the model's inputs and outputs.

Keeping the IO in float32 means the runtime feeds the same arrays whatever the precision;
the casts sit inside the graph. onnxruntime's own converter is used (no onnxconverter-common).
"""

from __future__ import annotations

from pathlib import Path


def convert_fp16(fp32_path: Path, fp16_path: Path, keep_io_types: bool = True) -> Path:
    """Write the FP16 version of an ONNX model; with ``keep_io_types`` its IO stays float32."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(fp32_path))
    half = convert_float_to_float16(model, keep_io_types=keep_io_types)
    _sort_topologically(half.graph)  # the converter appends its input casts after their consumers
    onnx.checker.check_model(half)
    Path(fp16_path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(half, str(fp16_path))
    return Path(fp16_path)


def _sort_topologically(graph) -> None:
    """Reorder ``graph.node`` so every node comes after the producers of its inputs (Kahn)."""
    available = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise ValueError("the FP16 graph has a cycle or an input nothing produces")
        for n in ready:
            available.update(n.output)
        ordered += ready
        pending = [n for n in pending if all(n is not r for r in ready)]
    del graph.node[:]
    graph.node.extend(ordered)
