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
    onnx.checker.check_model(half)
    Path(fp16_path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(half, str(fp16_path))
    return Path(fp16_path)
