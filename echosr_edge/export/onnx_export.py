"""PyTorch → ONNX.

The TorchScript-based exporter (``dynamo=False``) is chosen deliberately: it needs no
onnxscript, handles PixelShuffle/PReLU/BatchNorm at opset 17, and gives stable node names
that quantisation and ignored scopes can refer to.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

DEFAULT_OPSET = 17


def export_onnx(
    model: torch.nn.Module,
    path: Path,
    input_shape: tuple[int, int, int, int],
    input_name: str = "input",
    output_name: str = "output",
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Export ``model`` (eval mode) for N×C×H×W float32 input; metadata goes into metadata_props."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = torch.zeros(input_shape, dtype=torch.float32)
    axes = {input_name: {0: "batch"}, output_name: {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of the TorchScript exporter
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=[output_name],
            opset_version=opset,
            dynamic_axes=axes,
            dynamo=False,
            do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path
