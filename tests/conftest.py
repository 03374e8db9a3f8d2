"""Shared fixtures: a small synthetic CAMUS tree, tiny trained checkpoints and a bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_HR = 32
TINY_CLASSIFIER = 32


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory):
    """A fresh per-user cache (compiled OpenVINO models, passed start-up checks) for the whole test run.

    Tests neither read a developer's ~/.cache/echosr-edge nor leave entries in it; a test that
    needs its own sets ECHOSR_CACHE_DIR with monkeypatch.
    """
    import os

    folder = tmp_path_factory.mktemp("user-cache")
    before = os.environ.get("ECHOSR_CACHE_DIR")
    os.environ["ECHOSR_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("ECHOSR_CACHE_DIR", None)
    else:
        os.environ["ECHOSR_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def camus_root(tmp_path_factory) -> Path:
    """Eight synthetic patients in the 2023 NIfTI layout (32 frames)."""
    from echosr_edge.data.synth import write_synthetic_camus

    return write_synthetic_camus(tmp_path_factory.mktemp("camus") / "camus", patients=8, seed=1, size=(96, 80))


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, camus_root) -> dict[str, Path]:
    """A 1-block SRResNet and a view ResNet-18, each trained one short epoch."""
    pytest.importorskip("torch", reason="training needs the 'train' extra (torch)")
    from echosr_edge.train.classifier import ClassifierTrainConfig
    from echosr_edge.train.jobs import classifier_job, sr_job
    from echosr_edge.train.sr import SRTrainConfig

    out = tmp_path_factory.mktemp("ckpt")
    sr = sr_job(camus_root, out / "sr.pt", SRTrainConfig(hr_size=TINY_HR, features=8, blocks=1, epochs=1, patch_lr=8, lr=1e-3))
    view = classifier_job(
        camus_root, out / "view.pt", ClassifierTrainConfig(task="view", input_size=TINY_CLASSIFIER, epochs=1), hr_size=TINY_HR
    )
    return {"sr": sr.checkpoint, "view": view.checkpoint}


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory, camus_root, tiny_checkpoints) -> Path:
    """A bundle with ONNX FP32 and INT8 artifacts of the tiny checkpoints."""
    pytest.importorskip("onnx", reason="export needs the 'export' extra (onnx)")
    from echosr_edge.data.camus import read_camus
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle

    frames = read_camus(camus_root).frames
    out = tmp_path_factory.mktemp("bundle") / "bundle"
    export_bundle(
        tiny_checkpoints,
        calibration=frames,
        verification=frames,
        out=out,
        config=ExportConfig(calibration_count=16, verification_count=8, allow_degraded=True),
    )
    return out


@pytest.fixture()
def bundle_copy(tmp_path, bundle_dir) -> Path:
    """A private copy of the bundle that a test may alter."""
    import shutil

    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))
