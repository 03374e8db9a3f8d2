"""Fixtures of the export tests: the tiny SR model as ONNX, and an OpenVINO bundle of it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def frames(camus_root):
    from echosr_edge.data.camus import read_camus

    return read_camus(camus_root).frames


@pytest.fixture(scope="session")
def sr_model(tiny_checkpoints):
    from echosr_edge.export.models import discover_models

    return discover_models([tiny_checkpoints["sr"]])[0]


@pytest.fixture(scope="session")
def sr_onnx(tmp_path_factory, sr_model) -> Path:
    """The tiny SRResNet (1 block, 8×8 LR input) exported to ONNX FP32."""
    pytest.importorskip("onnx")
    from echosr_edge.export.onnx_export import export_onnx
    from echosr_edge.models.checkpoint import load_checkpoint

    model, _ = load_checkpoint(sr_model.checkpoint)
    path = tmp_path_factory.mktemp("onnx") / "sr.fp32.onnx"
    return export_onnx(model, path, (1, 1, sr_model.input_size, sr_model.input_size))


@pytest.fixture(scope="session")
def calibration_inputs(sr_model, frames):
    return sr_model.inputs([f.image for f in frames[:16]])


@pytest.fixture(scope="session")
def openvino_bundle(tmp_path_factory, tiny_checkpoints, frames):
    """A bundle of the tiny SR model: ONNX and OpenVINO, FP32 and INT8."""
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle

    out = tmp_path_factory.mktemp("ov") / "bundle"
    config = ExportConfig(targets=("onnx", "openvino"), precisions=("fp32", "int8"), calibration_count=16, verification_count=8)
    manifest, rows = export_bundle({"sr": tiny_checkpoints["sr"]}, frames, frames, out, config)
    return out, manifest, rows
