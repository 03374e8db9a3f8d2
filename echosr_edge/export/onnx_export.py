"""PyTorch → ONNX, and the optional onnxsim pass.

The TorchScript-based exporter (``dynamo=False``) is chosen deliberately: it needs no
onnxscript, handles PixelShuffle/PReLU/BatchNorm at opset 17, and gives stable node names
that quantisation and ignored scopes can refer to.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from echosr_edge.errors import ConfigError, MissingExtra

log = logging.getLogger(__name__)
DEFAULT_OPSET = 17
MIN_OPSET = 13  # QDQ per-channel quantisation needs opset 13


def export_onnx(
    model: torch.nn.Module,
    path: Path,
    input_shape: tuple[int, int, int, int],
    input_name: str = "input",
    output_name: str = "output",
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    dynamic_spatial: bool = False,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Export ``model`` (eval mode) for N×C×H×W float32 input; metadata goes into metadata_props.

    ``dynamic_batch`` names axis 0 'batch'; ``dynamic_spatial`` names H and W 'height'/'width'
    (the output's follow the model: for SR they are scale × the input's).
    """
    import onnx

    if opset < MIN_OPSET:
        raise ConfigError(f"opset {opset} is too old: INT8 QDQ per-channel needs opset ≥ {MIN_OPSET}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = torch.zeros(input_shape, dtype=torch.float32)
    axes: dict[str, dict[int, str]] = {input_name: {}, output_name: {}}
    if dynamic_batch:
        axes[input_name][0] = axes[output_name][0] = "batch"
    if dynamic_spatial:
        axes[input_name].update({2: "height", 3: "width"})
        axes[output_name].update({2: "out_height", 3: "out_width"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of the TorchScript exporter
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=[output_name],
            opset_version=opset,
            dynamic_axes={k: v for k, v in axes.items() if v} or None,
            dynamo=False,
            do_constant_folding=True,
        )
    proto = onnx.load(str(path))
    set_metadata(proto, metadata or {})
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


def set_metadata(proto, metadata: dict[str, str]) -> None:
    """Write key/values into an ONNX ModelProto's metadata_props (replacing equal keys)."""
    existing = {p.key: p for p in proto.metadata_props}
    for key, value in metadata.items():
        entry = existing.get(key) or proto.metadata_props.add()
        entry.key, entry.value = key, str(value)


def simplify_onnx(path: Path) -> Path:
    """Simplify the ONNX file in place with onnxsim (constant folding, redundant-node removal).

    onnxsim is optional: without it this raises MissingExtra naming the package to install.
    """
    import onnx

    try:
        import onnxsim
    except ImportError as exc:
        raise MissingExtra("onnxsim", "simplify") from exc
    proto = onnx.load(str(path))
    simplified, ok = onnxsim.simplify(proto)
    if not ok:
        raise ConfigError(f"{path}: onnxsim could not validate the simplified model; export without --simplify")
    del simplified.metadata_props[:]
    set_metadata(simplified, {p.key: p.value for p in proto.metadata_props})
    onnx.save(simplified, str(path))
    log.info("simplified %s: %d → %d nodes", path, len(proto.graph.node), len(simplified.graph.node))
    return path
