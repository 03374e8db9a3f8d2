"""Fixtures of the runtime and its applications (imported by tests/conftest.py): the conftest bundle with OpenVINO IR added, a short clip, a local MJPEG server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.runtime.helpers import start_mjpeg_server


@pytest.fixture(scope="session")
def openvino_bundle(tmp_path_factory, bundle_dir) -> Path:
    """A copy of the ONNX bundle with OpenVINO IR (fp32, int8) converted from its ONNX models."""
    pytest.importorskip("openvino", reason="OpenVINO artifacts need the 'openvino' extra")
    from tests.runtime.openvino_ir import add_openvino_artifacts

    out = Path(shutil.copytree(bundle_dir, tmp_path_factory.mktemp("ov") / "bundle"))
    add_openvino_artifacts(out, ("fp32", "int8"))
    return out


@pytest.fixture(scope="session")
def clip(tmp_path_factory, camus_root) -> tuple[Path, int]:
    """An MP4 of every synthetic CAMUS frame (32 frames, 96×80): (path, frame count)."""
    from echosr_edge.data.camus import read_camus

    frames = [f.image for f in read_camus(camus_root).frames]
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    h, w = frames[0].shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path, len(frames)


@pytest.fixture()
def mjpeg_servers():
    """Starts servers on demand and kills whatever is left at the end of the test."""
    procs: list[subprocess.Popen] = []

    def start(port: int, value: int, **kw) -> subprocess.Popen:
        proc = start_mjpeg_server(port, value, **kw)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture()
def screen_capture(camus_root) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A CAMUS frame placed on a larger black 'scanner screen' with text: (frame, true box t,l,b,r)."""
    from echosr_edge.data.camus import read_camus

    fan = read_camus(camus_root).frames[0].image
    canvas = np.zeros((200, 260), np.uint8)
    top, left = 40, 90
    canvas[top : top + fan.shape[0], left : left + fan.shape[1]] = fan
    cv2.putText(canvas, "HR 72 bpm  MI 1.1", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 255, 1)
    cv2.putText(canvas, "12 cm", (200, 190), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 200, 1)
    return canvas, (top, left, top + fan.shape[0], left + fan.shape[1])


@pytest.fixture(scope="session")
def student_checkpoint(tmp_path_factory, camus_root, tiny_checkpoints) -> Path:
    """A tiny ESPCN distilled for one epoch from the conftest's tiny SRResNet."""
    pytest.importorskip("torch", reason="distillation needs the 'train' extra (torch)")
    from echosr_edge.train.distill import DistillConfig
    from echosr_edge.train.jobs import distill_job

    config = DistillConfig(hr_size=32, scale=4, epochs=1, patch_lr=8, lr=1e-3, student="espcn",
                           student_config={"features": 8, "features2": 4})
    out = tmp_path_factory.mktemp("student") / "espcn.pt"
    return distill_job(camus_root, out, tiny_checkpoints["sr"], config).checkpoint


@pytest.fixture(scope="session")
def profile_bundle(tmp_path_factory, camus_root, tiny_checkpoints, student_checkpoint) -> Path:
    """An ONNX FP32 bundle with a default (tiny SRResNet, view at 32 px) and a realtime profile
    (tiny ESPCN, the same view classifier re-exported at 16 px)."""
    pytest.importorskip("onnx", reason="export needs the 'export' extra (onnx)")
    from echosr_edge.data.camus import read_camus
    from echosr_edge.export.bundle_writer import ExportConfig, export_bundle
    from echosr_edge.export.models import discover_models
    from echosr_edge.export.profiles import plan_profiles

    frames = read_camus(camus_root).frames
    found = discover_models([tiny_checkpoints["sr"], student_checkpoint, tiny_checkpoints["view"]])
    models, profiles = plan_profiles(found, "realtime", student_checkpoint, realtime_input_size=16)
    out = tmp_path_factory.mktemp("profiles") / "bundle"
    export_bundle(models, None, frames, out, ExportConfig(precisions=("fp32",), verification_count=8, allow_degraded=True),
                  profiles=profiles)
    return out


@pytest.fixture(scope="session")
def frontier_root(tmp_path_factory) -> Path:
    """Six synthetic patients with an even quality mix (so held-out good and poor frames both exist)."""
    from echosr_edge.data.synth import write_synthetic_camus

    return write_synthetic_camus(tmp_path_factory.mktemp("frontier") / "camus", patients=6, seed=3, size=(96, 80),
                                 quality_mix="even")
