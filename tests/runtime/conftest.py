"""Runtime fixtures: the conftest bundle with OpenVINO IR added, a short clip, a local MJPEG server."""

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
