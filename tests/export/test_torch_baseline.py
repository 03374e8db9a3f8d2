"""The bench's PyTorch FP32 baseline: the same pipeline on the checkpoints, the fidelity reference."""

import pytest

pytest.importorskip("torch", reason="the PyTorch baseline needs the 'train' extra (torch)")

from echosr_edge.bench.report import format_table  # noqa: E402
from echosr_edge.bench.runner import bench_bundle  # noqa: E402
from echosr_edge.bundle.integrity import open_bundle  # noqa: E402
from echosr_edge.devices.profiles import get_profile  # noqa: E402
from echosr_edge.errors import BundleError  # noqa: E402
from echosr_edge.export.torch_engine import find_checkpoints, torch_target  # noqa: E402


def test_bench_uses_pytorch_fp32_as_reference_and_reports_speedups(bundle_dir, tiny_checkpoints):
    manifest = open_bundle(bundle_dir)
    baseline = torch_target(manifest, tiny_checkpoints)
    report = bench_bundle(bundle_dir, get_profile("cpu"), runs=3, warmup=1, torch_target=baseline)
    labels = [f"{r.format} {r.precision}" for r in report.rows]
    assert labels == ["pytorch fp32", "onnx fp32", "onnx int8"]
    assert report.reference == "pytorch fp32"
    torch_row, fp32_row, int8_row = report.rows
    assert torch_row.speedup_vs_torch == pytest.approx(1.0)
    assert fp32_row.sr_psnr_vs_fp32 > 60  # ONNX FP32 against PyTorch FP32: rounding only
    assert fp32_row.agreement_vs_fp32["view"] == 1.0
    assert int8_row.speedup_vs_torch > 0 and int8_row.stages["total"].p99 >= int8_row.stages["total"].p50
    assert "speed-up vs PyTorch" in format_table(report)


def test_missing_checkpoint_for_a_bundle_model_is_named(bundle_dir, tiny_checkpoints, tmp_path):
    import shutil

    shutil.copy(tiny_checkpoints["sr"], tmp_path / "sr.pt")
    manifest = open_bundle(bundle_dir)
    with pytest.raises(BundleError, match="no PyTorch checkpoint for model\\(s\\) view"):
        torch_target(manifest, find_checkpoints(tmp_path, manifest))
