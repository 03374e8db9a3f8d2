"""ONNX → OpenVINO IR at FP32 / FP16, and INT8 through NNCF (plain or accuracy-controlled).

The IR is converted from the exported FP32 ONNX (one graph for every backend). INT8 uses
``nncf.quantize`` on the FP32 ``ov.Model`` with an ignored scope for the layers kept in float,
or ``nncf.quantize_with_accuracy_control``, which reverts the layers that cost most until the
validation metric is within ``max_drop`` of FP32's. Verification runs the IR through the
runtime's OpenVINO adapter with the intel-cpu profile's options (``export.verify``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from echosr_edge.calibration.methods import nncf_advanced_parameters
from echosr_edge.calibration.nncf_reader import make_nncf_dataset, make_nncf_validation_dataset
from echosr_edge.errors import import_optional
from echosr_edge.export.graph import openvino_float_convs
from echosr_edge.export.quiet import quiet_stdout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccuracyControl:
    """Accuracy-controlled quantisation: the validation set, its metric and the allowed drop.

    ``metric`` takes (outputs N×…, targets) and returns per-frame values (higher is better):
    PSNR vs HR in dB for SR, correctness (0/1) for classifiers; ``max_drop`` is in its unit.
    """

    inputs: np.ndarray
    targets: np.ndarray
    metric: Callable[[np.ndarray, np.ndarray], np.ndarray]
    max_drop: float


def _ir_files(xml: Path) -> tuple[Path, Path]:
    return xml, xml.with_suffix(".bin")


def _read_onnx(onnx_path: Path, metadata: dict[str, str]):
    ov = import_optional("openvino", "openvino")
    model = ov.convert_model(str(onnx_path))
    for key, value in metadata.items():
        model.set_rt_info(str(value), ["model_info", key])
    return ov, model


def onnx_to_ir(onnx_path: Path, xml_path: Path, precision: str, metadata: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Convert ONNX to IR; 'fp16' stores FP16 weights (compute precision is the device's choice)."""
    if precision not in ("fp32", "fp16"):
        raise ValueError(f"onnx_to_ir makes fp32 or fp16 IR, not {precision!r}")
    ov, model = _read_onnx(onnx_path, metadata or {})
    Path(xml_path).parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(xml_path), compress_to_fp16=precision == "fp16")
    return _ir_files(Path(xml_path))


def quantize_ir(
    onnx_path: Path,
    xml_path: Path,
    calibration_inputs: np.ndarray,
    method: str = "minmax",
    float_rule: str = "none",
    accuracy_control: AccuracyControl | None = None,
    metadata: dict[str, str] | None = None,
    spatial: tuple[int, int] | None = None,
) -> tuple[tuple[Path, Path], list[str]]:
    """INT8 IR through NNCF; returns ((xml, bin), the layers left in float).

    The convolutions ``float_rule`` names (echosr_edge.export.graph: 'sensitive', 'first-last',
    'none') are in an ignored scope. With ``accuracy_control`` NNCF may leave more layers in float; those are found
    by comparing the quantised graph with the FP32 one and reported too.
    """
    nncf = import_optional("nncf", "export")
    ov, model = _read_onnx(onnx_path, metadata or {})
    dataset = make_nncf_dataset(calibration_inputs, spatial)
    ignored = openvino_float_convs(model, float_rule)
    common = dict(
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(calibration_inputs),
        ignored_scope=nncf.IgnoredScope(names=ignored) if ignored else None,
    )
    if accuracy_control is None:
        with quiet_stdout("nncf.quantize"):
            quantized = nncf.quantize(model, dataset, advanced_parameters=nncf_advanced_parameters(method), **common)
    else:
        ac = accuracy_control
        validation = make_nncf_validation_dataset(ac.inputs, ac.targets, spatial)

        def validate(compiled, items) -> tuple[float, list[float]]:
            values = []
            for x, target in items:
                out = compiled(x)[compiled.output(0)]
                values.extend(float(v) for v in ac.metric(np.asarray(out), np.asarray([target])))
            finite = [v for v in values if math.isfinite(v)]
            return (float(np.mean(finite)) if finite else math.inf), values

        with quiet_stdout("nncf.quantize_with_accuracy_control"):
            quantized = nncf.quantize_with_accuracy_control(
                model,
                dataset,
                validation,
                validate,
                max_drop=ac.max_drop,
                advanced_quantization_parameters=nncf_advanced_parameters(method),
                **common,
            )
    Path(xml_path).parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(xml_path), compress_to_fp16=False)
    return _ir_files(Path(xml_path)), unquantized_convolutions(quantized)


def unquantized_convolutions(model) -> list[str]:
    """Convolutions of an ``ov.Model`` whose weights do not pass through a FakeQuantize (kept float)."""
    kept = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in ("Convolution", "GroupConvolution", "ConvolutionBackpropData"):
            continue
        if not _fed_by_fake_quantize(op.input(1).get_source_output().get_node()):
            kept.append(op.get_friendly_name())
    return kept


def _fed_by_fake_quantize(node, depth: int = 4) -> bool:
    """Whether the weight path of a convolution holds a FakeQuantize (through converts/reshapes)."""
    for _ in range(depth):
        kind = node.get_type_name()
        if kind in ("FakeQuantize", "FakeConvert"):
            return True
        if kind == "Constant" and node.get_output_element_type(0).get_type_name() in ("i8", "u8", "i4", "u4"):
            return True  # compressed INT8 weights (decompression subgraph)
        if node.get_input_size() == 0:
            return False
        node = node.input(0).get_source_output().get_node()
    return False
